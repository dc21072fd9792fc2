"""DNANet's dense nested decoder and multi-scale feature fusion."""
from typing import List, Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.model import BaseModule
from torch import Tensor

from serankdet.registry import MODELS
from ..backbones.dnanet import (check_dnanet_widths,
                                xavier_normal_conv_weights)
from ..layers.residual_block import residual_cbam_stage


def resize(x: Tensor, like: Tensor) -> Tensor:
    """Bilinear resize of ``x`` to the size of ``like`` with aligned corners
    (the reference's x2 / x0.5 / x4 / x8 / x16 ``nn.Upsample``)."""
    return F.interpolate(x, like.shape[-2:], mode='bilinear',
                         align_corners=True)


@MODELS.register_module()
class DNANetDecoder(BaseModule):
    """Dense nested interactive module (DNIM) and feature pyramid fusion.

    With the encoder features ``x[i][0]`` (level i, 1/2**i resolution), the
    nested nodes are, for j >= 1 and i + j <= 4 (``conv{i}_{j}``)::

        x[i][j] = node_ij(cat(x[i][0], ..., x[i][j-1],
                              up(x[i+1][j-1]), down(x[i-1][j]) if i > 0))

    where a node is a stage of Res-CBAM blocks (:func:`residual_cbam_stage`;
    1 block on level 0, ``num_blocks[i-1]`` on level i) and up/down are
    bilinear x2 / x0.5 resizes with aligned corners. The fusion projects
    the deepest node of each level, ``x[i][4-i]`` for i = 4 ... 1, to
    ``channels[0]`` with a 1x1 conv, upsamples it to full resolution,
    concatenates it with ``x[0][4]`` and applies a Res-CBAM block.

    Input: the 5 :class:`DNANetEncoder` features, finest first.
    Output: ``[fused, x[0][1], x[0][2], x[0][3]]``, each
    (B, channels[0], H, W): the main feature, then the three the reference
    deeply supervises.

    Args:
        channels (Sequence[int]): widths of the 5 levels.
        num_blocks (Sequence[int]): Res-CBAM blocks of the nodes on levels
            1 to 4.
    """

    def __init__(self,
                 channels: Sequence[int] = (16, 32, 64, 128, 256),
                 num_blocks: Sequence[int] = (2, 2, 2, 2),
                 init_cfg=None):
        super().__init__(init_cfg)
        check_dnanet_widths(type(self).__name__, channels, num_blocks)
        self.channels = list(channels)
        self.depth = len(self.channels) - 1
        blocks = [1] + list(num_blocks)
        # nodes[i][j - 1] is the reference's conv{i}_{j}
        self.nodes = nn.ModuleList()
        for level in range(self.depth):
            row = nn.ModuleList()
            for col in range(1, self.depth - level + 1):
                in_ch = col * self.channels[level] + self.channels[level + 1]
                if level > 0:
                    in_ch += self.channels[level - 1]
                row.append(residual_cbam_stage(in_ch, self.channels[level],
                                               blocks[level]))
            self.nodes.append(row)
        # fuse_projs[i - 1] (level i) is the reference's conv0_{i}_1x1
        self.fuse_projs = nn.ModuleList(
            nn.Conv2d(width, self.channels[0], 1)
            for width in self.channels[1:])
        self.fuse_layer = residual_cbam_stage(
            self.channels[0] * (self.depth + 1), self.channels[0], 1)

    def init_weights(self):
        xavier_normal_conv_weights(self)

    def forward(self, inputs: Sequence[Tensor]) -> List[Tensor]:
        x = [[feat] for feat in inputs]
        # anti-diagonal by anti-diagonal, deepest level first: x[i][j] needs
        # x[i+1][j-1] (same diagonal) and x[i-1][j] (previous diagonal)
        for diagonal in range(1, self.depth + 1):
            for level in range(diagonal - 1, -1, -1):
                col = diagonal - level
                parts = x[level][:col] + [
                    resize(x[level + 1][col - 1], x[level][0])
                ]
                if level > 0:
                    parts.append(resize(x[level - 1][col], x[level][0]))
                x[level].append(
                    self.nodes[level][col - 1](torch.cat(parts, dim=1)))
        top = x[0]
        pyramid = [
            resize(self.fuse_projs[level - 1](x[level][-1]), top[0])
            for level in range(self.depth, 0, -1)
        ]
        fused = self.fuse_layer(torch.cat(pyramid + [top[-1]], dim=1))
        return [fused] + top[1:self.depth]
