"""CBAM attention gates (Woo et al., ECCV 2018)."""
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor


class ChannelAttention(nn.Module):
    """CBAM channel gate: sigmoid(MLP(avgpool x) + MLP(maxpool x)).

    (B, C, H, W) -> (B, C, 1, 1) weights; the MLP is two bias-free 1x1 convs
    with a ``C // reduction`` bottleneck (SAM-SPL 4; DNANet and MSHNet 16).
    """

    def __init__(self, channels: int, reduction: int = 4):
        super().__init__()
        hidden = channels // reduction
        self.fc1 = nn.Conv2d(channels, hidden, 1, bias=False)
        self.fc2 = nn.Conv2d(hidden, channels, 1, bias=False)

    def _mlp(self, x: Tensor) -> Tensor:
        return self.fc2(F.relu(self.fc1(x)))

    def forward(self, x: Tensor) -> Tensor:
        return torch.sigmoid(
            self._mlp(F.adaptive_avg_pool2d(x, 1)) +
            self._mlp(F.adaptive_max_pool2d(x, 1)))


class SpatialAttention(nn.Module):
    """CBAM spatial gate: sigmoid(conv7x7([mean_c x, max_c x])).

    (B, C, H, W) -> (B, 1, H, W) weights.
    """

    def __init__(self, kernel_size: int = 7):
        super().__init__()
        self.conv = nn.Conv2d(2, 1, kernel_size, padding=kernel_size // 2,
                              bias=False)

    def forward(self, x: Tensor) -> Tensor:
        pooled = torch.cat([x.mean(dim=1, keepdim=True),
                            x.amax(dim=1, keepdim=True)], dim=1)
        return torch.sigmoid(self.conv(pooled))
