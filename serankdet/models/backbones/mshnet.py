"""MSHNet's encoder (Liu et al., CVPR 2024): a residual-CBAM U-Net encoder."""
from typing import Sequence

import torch.nn as nn

from serankdet.registry import MODELS
from ..layers.residual_block import residual_cbam_stage
from .unet_encoder import PooledStagesEncoder


@MODELS.register_module()
class MSHNetEncoder(PooledStagesEncoder):
    """1x1 stem conv, then stages of residual-CBAM blocks
    (:func:`residual_cbam_stage`), max pooling (2x2) before every stage but
    the first (:class:`PooledStagesEncoder`).

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
        if len(num_blocks) != len(channels):
            raise ValueError(
                f'MSHNetEncoder: num_blocks {tuple(num_blocks)} needs one '
                f'value per stage of channels {tuple(channels)}')
        widths = [channels[0]] + list(channels)
        super().__init__(
            channels,
            stem=nn.Conv2d(in_channels, channels[0], 1),
            stages=(residual_cbam_stage(widths[i], widths[i + 1],
                                        num_blocks[i])
                    for i in range(len(channels))),
            init_cfg=init_cfg)
