"""A convolutional head with optional deep supervision."""
from typing import Optional, Sequence

import torch.nn as nn

from serankdet.registry import MODELS
from .base_irstd_head import BaseIRSTDHead


@MODELS.register_module()
class IRSTDHead(BaseIRSTDHead):
    """Main logit conv on the finest feature plus side logit convs.

    Given features ``[f_0, ..., f_n]`` (finest first, f_0 at input
    resolution), the main output is ``conv(f_0)`` with ``main_kernel_size``;
    each index in ``side_in_indices`` adds ``conv(f_i)`` with
    ``side_kernel_size``, upsampled bilinearly to the size of f_0. Outputs:
    ``[main, side_0, side_1, ...]``, each (B, 1, H, W) logits.

    Args:
        in_channels (Sequence[int]): channels of every input feature.
        main_kernel_size (int): kernel of the main conv.
        side_in_indices (Sequence[int]): features that get a side output.
        side_kernel_size (int): kernel of the side convs.
    """

    def __init__(self,
                 in_channels: Sequence[int],
                 main_kernel_size: int = 1,
                 side_in_indices: Optional[Sequence[int]] = (),
                 side_kernel_size: int = 3,
                 **kwargs):
        super().__init__(**kwargs)
        self.in_channels = list(in_channels)
        self.side_in_indices = list(side_in_indices or ())
        self.main_conv = nn.Conv2d(self.in_channels[0], 1, main_kernel_size,
                                   padding=main_kernel_size // 2)
        self.side_convs = nn.ModuleList(
            nn.Conv2d(self.in_channels[i], 1, side_kernel_size,
                      padding=side_kernel_size // 2)
            for i in self.side_in_indices)

    def forward(self, feats):
        size = feats[0].shape[-2:]
        outputs = [self.main_conv(feats[0])]
        outputs += [
            self.resize(conv(feats[index]), size)
            for index, conv in zip(self.side_in_indices, self.side_convs)
        ]
        return outputs
