"""SeRankDet decoder: upsample, LSFF-fuse the skip, convolve."""
from typing import Sequence, Tuple

import torch.nn as nn
from mmengine.model import BaseModule
from torch import Tensor

from serankdet.registry import MODELS
from ..layers import LSFF, CentralDifferenceConv2d, conv_bn_relu


class UpConv(nn.Module):
    """Bilinear x2 upsampling (align_corners=False) -> 3x3 conv-BN-ReLU.

    (B, in, h, w) -> (B, out, 2h, 2w).
    """

    def __init__(self, in_channels: int, out_channels: int):
        super().__init__()
        self.up = nn.Upsample(scale_factor=2, mode='bilinear',
                              align_corners=False)
        self.conv = conv_bn_relu(in_channels, out_channels)

    def forward(self, x: Tensor) -> Tensor:
        return self.conv(self.up(x))


def decoder_block(in_channels: int, out_channels: int,
                  theta: float = 0.7) -> nn.Sequential:
    """conv-BN-ReLU (in->out), difference conv-BN-ReLU, conv-BN-ReLU.

    (B, in, h, w) -> (B, out, h, w).
    """
    return nn.Sequential(
        conv_bn_relu(in_channels, out_channels),
        conv_bn_relu(out_channels, out_channels,
                     conv_type=CentralDifferenceConv2d, theta=theta),
        conv_bn_relu(out_channels, out_channels))


@MODELS.register_module()
class LSFFDecoder(BaseModule):
    """U-Net decoder with LSFF skip fusion over features ``[e_0..e_n]``.

    ``d_n = e_n``; for i = n-1 .. 0:
    ``d_i = block_i(LSFF_i(e_i, up_i(d_{i+1})))`` where ``up_i`` maps
    ``C_{i+1} -> C_i`` at twice the size, LSFF gives ``2 C_i`` channels and
    ``block_i`` maps them back to ``C_i``. Returns ``(d_0, ..., d_{n-1}, e_n)``
    (finest first, the bottleneck last), so a head can supervise every
    level, the bottleneck included. Works with any encoder whose feature i
    has ``in_channels[i]`` channels and twice the size of feature i+1.

    Args:
        in_channels (Sequence[int]): channels of the encoder features.
        theta (float): difference weight of the decoder difference convs.
    """

    def __init__(self, in_channels: Sequence[int], theta: float = 0.7,
                 init_cfg=None):
        super().__init__(init_cfg)
        self.in_channels = list(in_channels)
        levels = range(len(self.in_channels) - 1)
        self.ups = nn.ModuleList(
            UpConv(self.in_channels[i + 1], self.in_channels[i])
            for i in levels)
        self.fusions = nn.ModuleList(LSFF(self.in_channels[i])
                                     for i in levels)
        self.blocks = nn.ModuleList(
            decoder_block(2 * self.in_channels[i], self.in_channels[i], theta)
            for i in levels)

    def forward(self, feats: Sequence[Tensor]) -> Tuple[Tensor, ...]:
        if len(feats) != len(self.in_channels):
            raise ValueError(f'LSFFDecoder expects {len(self.in_channels)} '
                             f'features, got {len(feats)}')
        decoded = [feats[-1]]
        for i in range(len(feats) - 2, -1, -1):
            up = self.ups[i](decoded[0])
            decoded.insert(0, self.blocks[i](self.fusions[i](feats[i], up)))
        return tuple(decoded)
