"""Plain U-Net decoder: upsample, concatenate the skip, convolve."""
from typing import Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.model import BaseModule

from serankdet.registry import MODELS
from ..backbones.unet_encoder import double_conv


@MODELS.register_module()
class UNetDecoder(BaseModule):
    """Decode encoder features ``[e_0, ..., e_n]`` (finest first).

    ``d_n = e_n``; ``d_i = conv(cat[e_i, up(d_{i+1})])`` for i < n, with
    ``d_i`` having ``in_channels[i]`` channels. Returns ``(d_0, ..., d_n)``,
    finest first, so heads can take deep supervision from any level.

    Args:
        in_channels (Sequence[int]): channels of the encoder features.
    """

    def __init__(self, in_channels: Sequence[int], init_cfg=None):
        super().__init__(init_cfg)
        self.in_channels = list(in_channels)
        self.blocks = nn.ModuleList(
            double_conv(self.in_channels[i] + self.in_channels[i + 1],
                        self.in_channels[i])
            for i in range(len(self.in_channels) - 1))

    def forward(self, feats):
        decoded = [feats[-1]]
        for index in range(len(feats) - 2, -1, -1):
            up = F.interpolate(decoded[0], feats[index].shape[-2:],
                               mode='bilinear', align_corners=False)
            decoded.insert(
                0, self.blocks[index](torch.cat([feats[index], up], dim=1)))
        return tuple(decoded)
