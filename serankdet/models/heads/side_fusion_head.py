"""Side outputs on every feature plus their learned fusion (U^2-Net style)."""
from typing import List, Sequence

import torch
import torch.nn as nn
from torch import Tensor

from serankdet.registry import MODELS
from .base_irstd_head import BaseIRSTDHead


@MODELS.register_module()
class SideFusionHead(BaseIRSTDHead):
    """One logit map per feature, fused by a 1x1 conv into the main output.

    Given features ``[f_0, ..., f_n]`` (finest first), side output
    ``s_i = conv_i(f_i)`` (kernel ``side_kernel_size``, bias), upsampled
    bilinearly to the size of f_0 where it differs; the main output is
    ``fuse_conv(cat([s_0, ..., s_n]))`` (1x1, bias). Outputs:
    ``[main, s_0, ..., s_n]``, each (B, 1, H_0, W_0) logits: UIU-Net's
    ``d0, d1, ..., d6`` before their sigmoid, all deeply supervised.

    Args:
        in_channels (Sequence[int]): channels of every input feature.
        side_kernel_size (int): kernel of the side convs.
    """

    def __init__(self, in_channels: Sequence[int],
                 side_kernel_size: int = 3, **kwargs):
        super().__init__(**kwargs)
        self.side_convs = nn.ModuleList(
            nn.Conv2d(channels, 1, side_kernel_size,
                      padding=side_kernel_size // 2)
            for channels in in_channels)
        self.fuse_conv = nn.Conv2d(len(self.side_convs), 1, 1)

    def forward(self, feats: Sequence[Tensor]) -> List[Tensor]:
        if len(feats) != len(self.side_convs):
            raise ValueError(
                f'SideFusionHead was built for {len(self.side_convs)} '
                f'features (in_channels), got {len(feats)}')
        size = feats[0].shape[-2:]
        sides = [
            self.resize(conv(feat), size)
            for feat, conv in zip(feats, self.side_convs)
        ]
        return [self.fuse_conv(torch.cat(sides, dim=1)), *sides]
