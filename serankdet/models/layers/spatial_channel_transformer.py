"""Spatial-channel cross transformer: the skip-connection transformer of
SCTransNet (Yuan et al., TGRS 2024)."""
from typing import List, Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.model import BaseModule
from torch import Tensor

from serankdet.registry import MODELS
from .layer_norm2d import LayerNorm2d
from .transposed_attention import transposed_attention


def conv1x1(in_channels: int, out_channels: int) -> nn.Conv2d:
    return nn.Conv2d(in_channels, out_channels, 1, bias=False)


def depthwise_conv3x3(channels: int, group_width: int = 1) -> nn.Conv2d:
    """Bias-free 3x3 conv over groups of ``group_width`` channels."""
    return nn.Conv2d(channels, channels, 3, padding=1,
                     groups=channels // group_width, bias=False)


class SpatialChannelCrossAttention(nn.Module):
    """SSCA: single-head channel cross attention between all levels.

    Level i (tokens x_i, (B, C_i, h, w)) queries the concatenation of all
    levels x_all (B, K, h, w), K = sum C_i:
    ``q_i = conv3x3_g(conv1x1(x_i))`` (grouped 3x3 with 2 channels per
    group), ``k = dwconv3x3(conv1x1(x_all))``, ``v`` likewise, and
    ``out_i = conv1x1(transposed_attention(q_i, k, v, sqrt(K)))`` (a (C_i, K)
    channel attention; every conv bias-free). The 3x3 convs give the
    queries, keys and values their spatial context ("spatial-embedded").

    Args:
        channels (Sequence[int]): C_i of every level.

    Shapes: ``[(B, C_i, h, w)]`` and (B, K, h, w) -> ``[(B, C_i, h, w)]``.
    """

    def __init__(self, channels: Sequence[int]):
        super().__init__()
        total = sum(channels)
        self.temperature = total**0.5
        self.queries = nn.ModuleList(
            nn.Sequential(conv1x1(c, c), depthwise_conv3x3(c, 2))
            for c in channels)
        self.key = nn.Sequential(conv1x1(total, total),
                                 depthwise_conv3x3(total))
        self.value = nn.Sequential(conv1x1(total, total),
                                   depthwise_conv3x3(total))
        self.out_projs = nn.ModuleList(conv1x1(c, c) for c in channels)

    def forward(self, feats: Sequence[Tensor], joint: Tensor) -> List[Tensor]:
        batch, _, height, width = joint.shape

        def one_head(x):  # (B, C, h, w) -> (B, 1, C, h*w)
            return x.reshape(batch, 1, x.shape[1], height * width)

        key, value = one_head(self.key(joint)), one_head(self.value(joint))
        outputs = []
        for x, query, out_proj in zip(feats, self.queries, self.out_projs):
            out = transposed_attention(one_head(query(x)), key, value,
                                       self.temperature)
            outputs.append(out_proj(out.reshape(batch, -1, height, width)))
        return outputs


class ComplementaryFeedForward(nn.Module):
    """CFN: two depthwise branches, then an ECA channel gate.

    ``[a, b] = split(conv1x1(x))`` into two halves of ``hidden =
    int(C * expansion)`` channels; ``y = conv1x1(cat[relu(dwconv3x3(a)),
    relu(dwconv5x5(b))])``; the output is ``y * sigmoid(conv1d_3(avgpool(
    y)))``, the ECA gate (a 3-tap conv across the pooled channels). Every
    conv is bias-free.

    Args:
        channels (int): C.
        expansion (float): hidden width factor (2.66 in the reference).

    Shapes: (B, C, H, W) -> (B, C, H, W).
    """

    def __init__(self, channels: int, expansion: float = 2.66):
        super().__init__()
        hidden = int(channels * expansion)
        self.project_in = conv1x1(channels, 2 * hidden)
        self.dwconv3x3 = nn.Conv2d(hidden, hidden, 3, padding=1,
                                   groups=hidden, bias=False)
        self.dwconv5x5 = nn.Conv2d(hidden, hidden, 5, padding=2,
                                   groups=hidden, bias=False)
        self.project_out = conv1x1(2 * hidden, channels)
        self.gate_conv = nn.Conv1d(1, 1, 3, padding=1, bias=False)

    def forward(self, x: Tensor) -> Tensor:
        branch3, branch5 = self.project_in(x).chunk(2, dim=1)
        y = self.project_out(
            torch.cat([F.relu(self.dwconv3x3(branch3)),
                       F.relu(self.dwconv5x5(branch5))], dim=1))
        batch, channels = y.shape[:2]
        pooled = F.adaptive_avg_pool2d(y, 1).view(batch, 1, channels)
        gate = self.gate_conv(pooled).sigmoid().view(batch, channels, 1, 1)
        return gate * y


class SpatialChannelCrossTransformerBlock(nn.Module):
    """SCTB: pre-norm SSCA and CFN, each with a residual, on every level.

    ``x_i <- x_i + SSCA_i(LN_i(x_1..L), LN(cat[x_1..L]))`` (the joint key
    and value normalised over all K channels), then
    ``x_i <- x_i + CFN_i(LN'_i(x_i))``; LayerNorms over channels, eps 1e-5.

    Args:
        channels (Sequence[int]): C_i of every level.
        ffn_expansion (float): CFN hidden width factor.

    Shapes: ``[(B, C_i, h, w)]`` -> ``[(B, C_i, h, w)]``.
    """

    def __init__(self, channels: Sequence[int], ffn_expansion: float = 2.66):
        super().__init__()
        self.attn_norms = nn.ModuleList(LayerNorm2d(c) for c in channels)
        self.joint_norm = LayerNorm2d(sum(channels))
        self.attention = SpatialChannelCrossAttention(channels)
        self.ffn_norms = nn.ModuleList(LayerNorm2d(c) for c in channels)
        self.ffns = nn.ModuleList(
            ComplementaryFeedForward(c, ffn_expansion) for c in channels)

    def forward(self, feats: Sequence[Tensor]) -> List[Tensor]:
        attended = self.attention(
            [norm(x) for norm, x in zip(self.attn_norms, feats)],
            self.joint_norm(torch.cat(list(feats), dim=1)))
        feats = [x + a for x, a in zip(feats, attended)]
        return [
            x + ffn(norm(x))
            for x, norm, ffn in zip(feats, self.ffn_norms, self.ffns)
        ]


@MODELS.register_module()
class SpatialChannelCrossTransformer(BaseModule):
    """SCTransNet's transformer over the encoder skips ``[e_1, ..., e_L]``.

    Level i is cut into p_i x p_i patches by a strided conv (``patch_sizes``
    chosen so that every level gives the same h x w token grid, 1/16 of the
    input for the reference), the token maps go through ``num_layers``
    :class:`SpatialChannelCrossTransformerBlock`s and a final LayerNorm per
    level, and are brought back to each level's size by bilinear
    upsampling (x p_i, ``align_corners=False``) and conv1x1-BN-ReLU:
    ``out_i = Reconstruct_i(tokens_i) + e_i``.

    The reference also builds position embeddings (whose shape is set by its
    ``img_size``) and 16 scalar weights per block that its forward never
    uses; they are not built here, so the module takes any input whose
    level sizes are multiples of the patch sizes and agree on the grid.

    Args:
        channels (Sequence[int]): C_i of the levels (finest first).
        patch_sizes (Sequence[int]): p_i.
        num_layers (int): number of SCTBs.
        ffn_expansion (float): CFN hidden width factor.

    Shapes: ``[(B, C_i, H_i, W_i)]`` -> ``[(B, C_i, H_i, W_i)]``.
    """

    def __init__(self,
                 channels: Sequence[int] = (32, 64, 128, 256),
                 patch_sizes: Sequence[int] = (16, 8, 4, 2),
                 num_layers: int = 4,
                 ffn_expansion: float = 2.66,
                 init_cfg=None):
        super().__init__(init_cfg)
        if len(channels) != len(patch_sizes):
            raise ValueError(
                f'{type(self).__name__}: channels {tuple(channels)} and '
                f'patch_sizes {tuple(patch_sizes)} need one entry per level')
        self.patch_sizes = list(patch_sizes)
        self.patch_embeds = nn.ModuleList(
            nn.Conv2d(c, c, p, stride=p)
            for c, p in zip(channels, patch_sizes))
        self.layers = nn.ModuleList(
            SpatialChannelCrossTransformerBlock(channels, ffn_expansion)
            for _ in range(num_layers))
        self.out_norms = nn.ModuleList(LayerNorm2d(c) for c in channels)
        self.reconstructs = nn.ModuleList(
            nn.Sequential(nn.Conv2d(c, c, 1), nn.BatchNorm2d(c),
                          nn.ReLU(inplace=True)) for c in channels)

    def check_sizes(self, feats: Sequence[Tensor]) -> None:
        """Raise ValueError unless every level is its patch size times one
        common token grid."""
        grid = [s // self.patch_sizes[0] for s in feats[0].shape[-2:]]
        sizes = [tuple(x.shape[-2:]) for x in feats]
        expected = [(grid[0] * p, grid[1] * p) for p in self.patch_sizes]
        if sizes != expected:
            raise ValueError(
                f'{type(self).__name__}: level sizes {sizes} do not tile '
                f'into one token grid with patch sizes {self.patch_sizes}; '
                'the input sides must be multiples of '
                f'{self.patch_sizes[0]} (pad the input)')

    def forward(self, feats: Sequence[Tensor]) -> List[Tensor]:
        self.check_sizes(feats)
        tokens = [embed(x) for embed, x in zip(self.patch_embeds, feats)]
        for layer in self.layers:
            tokens = layer(tokens)
        return [
            reconstruct(F.interpolate(norm(t), scale_factor=p,
                                      mode='bilinear', align_corners=False))
            + x for t, x, p, norm, reconstruct in zip(
                tokens, feats, self.patch_sizes, self.out_norms,
                self.reconstructs)
        ]
