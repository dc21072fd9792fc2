"""Residual conv block of DATransNet, SAM-SPL, DNANet and MSHNet, and the
stage of residual-CBAM blocks DNANet and MSHNet build from it."""
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor

from .cbam import ChannelAttention, SpatialAttention


class ResidualBlock(nn.Module):
    """``act(gate(BN(conv3x3(act(BN(conv3x3(x)))))) + shortcut(x))``.

    ``act`` is LeakyReLU with ``negative_slope`` (0: ReLU); ``gate`` is CBAM
    (channel then spatial attention) when ``cbam`` is set, else identity; the
    shortcut is conv1x1-BN when the width changes, identity otherwise. Every
    conv has a bias. Plain torch layers (not mmcv's ConvModule, whose
    ``init_weights`` re-initialises convs) keep the references' layers and
    initialisation.

    DATransNet's ``Res_block``: ``negative_slope=0.01``; SAM-SPL's Res-CBAM
    block: ``negative_slope=0, cbam=True``; MSHNet's ``ResNet`` block:
    ``negative_slope=0, cbam=True, cbam_reduction=16``.

    Shapes: (B, in_channels, H, W) -> (B, out_channels, H, W).
    """

    def __init__(self, in_channels: int, out_channels: int,
                 negative_slope: float = 0.0, cbam: bool = False,
                 cbam_reduction: int = 4):
        super().__init__()
        self.negative_slope = negative_slope
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, padding=1)
        self.bn2 = nn.BatchNorm2d(out_channels)
        self.shortcut = (nn.Sequential(
            nn.Conv2d(in_channels, out_channels, 1),
            nn.BatchNorm2d(out_channels))
                         if in_channels != out_channels else nn.Identity())
        if cbam:
            self.ca = ChannelAttention(out_channels, cbam_reduction)
            self.sa = SpatialAttention()
        self.cbam = cbam

    def act(self, x: Tensor) -> Tensor:
        return F.leaky_relu(x, self.negative_slope)

    def forward(self, x: Tensor) -> Tensor:
        out = self.bn2(self.conv2(self.act(self.bn1(self.conv1(x)))))
        if self.cbam:
            out = self.ca(out) * out
            out = self.sa(out) * out
        return self.act(out + self.shortcut(x))


def residual_cbam_stage(in_channels: int, out_channels: int,
                        num_blocks: int) -> nn.Sequential:
    """``num_blocks`` Res-CBAM blocks (:class:`ResidualBlock` with ReLU and a
    CBAM gate of channel reduction 16, the block of DNANet and MSHNet), the
    first changing the width.

    Shapes: (B, in_channels, H, W) -> (B, out_channels, H, W).
    """
    widths = [in_channels] + [out_channels] * num_blocks
    return nn.Sequential(*(
        ResidualBlock(widths[i], widths[i + 1], cbam=True, cbam_reduction=16)
        for i in range(num_blocks)))
