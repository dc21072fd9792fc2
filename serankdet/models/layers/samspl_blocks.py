"""Building blocks of SAM-SPL (Fu et al., TGRS 2025).

Consultation generator, self-prompt
generator, skip channel gate and mutual-calibration up block, plus the
reference initialisation rule.
"""
from typing import Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor

from .conv_bn_relu import conv_bn_relu, conv_bn_relu_stack


def samspl_init_weights(module: nn.Module) -> None:
    """The reference initialisation, applied to every submodule.

    Conv / transposed conv / Linear weights: Kaiming normal (fan_in, gain
    sqrt(2)), biases keep PyTorch's default; BatchNorm weight ~ N(1, 0.02),
    bias 0; LayerNorm and embeddings keep their defaults.
    """
    for layer in module.modules():
        if isinstance(layer, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            nn.init.kaiming_normal_(layer.weight, a=0, mode='fan_in')
        elif isinstance(layer, nn.BatchNorm2d):
            nn.init.normal_(layer.weight, 1.0, 0.02)
            nn.init.zeros_(layer.bias)


def consultation_generator(channels: int) -> nn.Sequential:
    """CNN+SAM feature (B, C, H, W) -> guidance (B, 2C, H/2, W/2).

    conv3x3 + BN + GELU, then conv7x7 stride 2 (C -> 2C) + BN + GELU, as
    ``Sequential(0..5)``. Its output is added to the trunk tokens before the
    last block of the next trunk stage.
    """
    return nn.Sequential(
        nn.Conv2d(channels, channels, 3, padding=1),
        nn.BatchNorm2d(channels), nn.GELU(),
        nn.Conv2d(channels, 2 * channels, 7, stride=2, padding=3),
        nn.BatchNorm2d(2 * channels), nn.GELU())


class SelfPromptGenerator(nn.Module):
    """Dense self-prompt from the shallow task-encoder features.

    Branch j: ``down_times[j]`` x (conv3x3 stride 2 + BN + ReLU), then
    conv1x1 (-> ``embed_dim``) + BN + ReLU, so every branch lands at the same
    resolution. The branch maps are stacked scale-major and flattened
    (channel index ``j * embed_dim + c``), then fused by a grouped 1x1 conv
    with ``embed_dim`` groups: output channel g mixes flattened channels
    ``n*g .. n*g + n - 1`` (n = number of branches). That mostly mixes
    neighbouring channels of one scale, not one channel per scale; kept as
    the reference does it, since its weights depend on that order.

    Args:
        in_channels (Sequence[int]): channels of the input features.
        down_times (Sequence[int]): stride-2 steps per branch.
        embed_dim (int): prompt channels.

    Forward: list of (B, in_channels[j], H_j, W_j) -> (B, embed_dim, h, w).
    """

    def __init__(self, in_channels: Sequence[int],
                 down_times: Sequence[int], embed_dim: int = 256):
        super().__init__()
        if len(in_channels) != len(down_times):
            raise ValueError(
                f'in_channels {list(in_channels)} and down_times '
                f'{list(down_times)} must have the same length')
        self.branches = nn.ModuleList(
            nn.Sequential(
                *[conv_bn_relu(channels, channels, stride=2)
                  for _ in range(times)],
                nn.Conv2d(channels, embed_dim, 1),
                nn.BatchNorm2d(embed_dim), nn.ReLU(inplace=True))
            for channels, times in zip(in_channels, down_times))
        self.fuse = nn.Conv2d(embed_dim * len(in_channels), embed_dim, 1,
                              groups=embed_dim)

    def forward(self, feats: Sequence[Tensor]) -> Tensor:
        maps = [branch(feat) for feat, branch in zip(feats, self.branches)]
        return self.fuse(torch.stack(maps, dim=1).flatten(1, 2))


class ChannelGate(nn.Module):
    """Squeeze-and-excitation: x * sigmoid(W2 relu(W1 avgpool(x))).

    Bias-free Linear layers with a C // ``ratio`` bottleneck (at least 1).
    (B, C, H, W) -> (B, C, H, W).
    """

    def __init__(self, channels: int, ratio: int = 16):
        super().__init__()
        hidden = max(channels // ratio, 1)
        self.fc1 = nn.Linear(channels, hidden, bias=False)
        self.fc2 = nn.Linear(hidden, channels, bias=False)

    def forward(self, x: Tensor) -> Tensor:
        gate = torch.sigmoid(self.fc2(F.relu(self.fc1(x.mean(dim=(2, 3))))))
        return x * gate[:, :, None, None]


def skip_conv(channels: int) -> nn.Sequential:
    """Skip refinement: channel gate, BN, GELU, conv1x1, GELU (C -> C)."""
    return nn.Sequential(
        ChannelGate(channels), nn.BatchNorm2d(channels), nn.GELU(),
        nn.Conv2d(channels, channels, 1), nn.GELU())


class MutualCalibrationUpBlock(nn.Module):
    """Decoder stage with mutual calibration of the deep and skip paths.

    deep (B, C, h, w), skip (B, C, 2h, 2w) -> (B, C/2, 2h, 2w):
    ``u = up2(deep)`` (bilinear, align_corners=True); ``u += L_d(GAP(skip))``
    and ``skip += L_s(GAP(deep))`` (Linear C -> C with bias, broadcast-added,
    no sigmoid; GAP of deep taken before upsampling); then two conv3x3 + BN +
    ReLU on ``cat[u, skip]`` (2C -> C/2 -> C/2).
    """

    def __init__(self, channels: int):
        super().__init__()
        self.deep_calib = nn.Linear(channels, channels)
        self.skip_calib = nn.Linear(channels, channels)
        self.fuse = conv_bn_relu_stack(2 * channels, channels // 2, 2)

    def forward(self, deep: Tensor, skip: Tensor) -> Tensor:
        up = F.interpolate(deep, scale_factor=2, mode='bilinear',
                           align_corners=True)
        up = up + self.deep_calib(skip.mean(dim=(2, 3)))[:, :, None, None]
        skip = skip + self.skip_calib(deep.mean(dim=(2, 3)))[:, :, None, None]
        return self.fuse(torch.cat([up, skip], dim=1))
