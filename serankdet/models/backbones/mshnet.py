"""MSHNet's encoder (Liu et al., CVPR 2024): a residual-CBAM U-Net encoder."""
from typing import Sequence

import torch.nn as nn
from mmengine.model import BaseModule

from serankdet.registry import MODELS
from ..layers.residual_block import ResidualBlock


def residual_cbam_stage(in_channels: int, out_channels: int,
                        num_blocks: int) -> nn.Sequential:
    """``num_blocks`` MSHNet blocks (:class:`ResidualBlock` with ReLU and a
    CBAM gate of channel reduction 16), the first changing the width.

    Shapes: (B, in_channels, H, W) -> (B, out_channels, H, W).
    """
    widths = [in_channels] + [out_channels] * num_blocks
    return nn.Sequential(*(
        ResidualBlock(widths[i], widths[i + 1], cbam=True, cbam_reduction=16)
        for i in range(num_blocks)))


@MODELS.register_module()
class MSHNetEncoder(BaseModule):
    """1x1 stem conv, then stages of residual-CBAM blocks, max pooling
    (2x2) before every stage but the first.

    The reference's ``conv_init``, ``encoder_0..3`` and ``middle_layer``.
    Input (B, in_channels, H, W) with H, W multiples of
    ``2**(len(channels) - 1)``; output: tuple of
    (B, channels[i], H / 2**i, W / 2**i), finest first.

    Args:
        in_channels (int): input channels (3: the reference copies gray
            frames to RGB).
        channels (Sequence[int]): width of every stage.
        num_blocks (Sequence[int]): blocks of every stage.
    """

    def __init__(self,
                 in_channels: int = 3,
                 channels: Sequence[int] = (16, 32, 64, 128, 256),
                 num_blocks: Sequence[int] = (1, 2, 2, 2, 2),
                 init_cfg=None):
        super().__init__(init_cfg)
        if len(num_blocks) != len(channels):
            raise ValueError(
                f'MSHNetEncoder: num_blocks {tuple(num_blocks)} needs one '
                f'value per stage of channels {tuple(channels)}')
        self.channels = list(channels)
        self.stride = 2**(len(self.channels) - 1)
        self.stem = nn.Conv2d(in_channels, self.channels[0], 1)
        widths = [self.channels[0]] + self.channels
        self.stages = nn.ModuleList(
            residual_cbam_stage(widths[i], widths[i + 1], num_blocks[i])
            for i in range(len(self.channels)))
        self.pool = nn.MaxPool2d(2)

    def forward(self, x):
        height, width = x.shape[-2:]
        if height % self.stride or width % self.stride:
            raise ValueError(
                f'{type(self).__name__} needs input sides that are multiples '
                f'of {self.stride}, got {height}x{width}; pad the input '
                '(data_preprocessor.size_divisor).')
        x = self.stem(x)
        feats = []
        for index, stage in enumerate(self.stages):
            x = stage(x if index == 0 else self.pool(x))
            feats.append(x)
        return tuple(feats)
