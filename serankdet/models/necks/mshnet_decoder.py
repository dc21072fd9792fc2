"""MSHNet's decoder: U-Net decoding with residual-CBAM stages."""
from typing import Sequence

import torch
import torch.nn.functional as F
from mmengine.model import BaseModule

from serankdet.registry import MODELS
from ..layers.residual_block import residual_cbam_stage


@MODELS.register_module()
class MSHNetDecoder(BaseModule):
    """Decode encoder features ``[e_0, ..., e_n]`` (finest first).

    ``d_n = e_n``; ``d_i = stage_i(cat[e_i, up(d_{i+1})])`` for i < n, where
    ``up`` is bilinear upsampling to e_i's size with ``align_corners=True``
    (the reference's ``nn.Upsample(scale_factor=2, align_corners=True)``)
    and ``stage_i`` is :func:`residual_cbam_stage` with ``num_blocks[i]``
    blocks and ``in_channels[i]`` output channels (the reference's
    ``decoder_0..3``). Returns ``(d_0, ..., d_{n-1})``, finest first: the
    features MSHNet's multi-scale head predicts from.

    Args:
        in_channels (Sequence[int]): channels of the encoder features.
        num_blocks (Sequence[int]): blocks of every decoder stage
            (``len(in_channels) - 1`` values, finest first).
    """

    def __init__(self,
                 in_channels: Sequence[int] = (16, 32, 64, 128, 256),
                 num_blocks: Sequence[int] = (1, 2, 2, 2),
                 init_cfg=None):
        super().__init__(init_cfg)
        self.in_channels = list(in_channels)
        if len(num_blocks) != len(self.in_channels) - 1:
            raise ValueError(
                f'MSHNetDecoder: num_blocks {tuple(num_blocks)} needs '
                f'{len(self.in_channels) - 1} values (one per decoder stage '
                f'of in_channels {tuple(self.in_channels)})')
        self.stages = torch.nn.ModuleList(
            residual_cbam_stage(
                self.in_channels[i] + self.in_channels[i + 1],
                self.in_channels[i], num_blocks[i])
            for i in range(len(self.in_channels) - 1))

    def forward(self, feats):
        decoded = feats[-1]
        outputs = []
        for index in range(len(feats) - 2, -1, -1):
            up = F.interpolate(decoded, feats[index].shape[-2:],
                               mode='bilinear', align_corners=True)
            decoded = self.stages[index](torch.cat([feats[index], up], dim=1))
            outputs.insert(0, decoded)
        return tuple(outputs)
