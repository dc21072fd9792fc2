"""MSHNet's multi-scale head with its warm-up switch."""
from typing import List, Sequence, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor

from serankdet.registry import MODELS
from ..warm_up import EpochWarmUp
from .base_irstd_head import BaseIRSTDHead


@MODELS.register_module()
class MSHNetHead(EpochWarmUp, BaseIRSTDHead):
    """One logit map per decoder scale, fused by a conv at full resolution.

    Given decoder features ``[d_0, ..., d_n]`` (finest first, d_i at
    1/2**i of the input), ``m_i = conv(d_i)`` (B, 1, H/2**i, W/2**i) and
    the main output is ``conv(cat[m_0, up(m_1), ..., up(m_n)])`` with
    bilinear ``up`` to full size (``align_corners=True``, the reference's
    ``nn.Upsample``). Outputs: ``[fused, m_0, m_1, ..., m_n]``, the side
    maps at their own resolution.

    Warm-up (the reference's ``warm_flag``, :class:`EpochWarmUp`): during
    training epochs ``0 .. warm_up_epochs`` (inclusive, told by
    :meth:`set_epoch`, see :class:`~serankdet.engine.hooks.SetEpochHook`)
    the head returns
    ``[m_0]`` only, which is then the prediction and the only supervised
    map; the other side convs and the fusion conv are unused. Outside a
    training run (no epoch set) the head is in its trained state (fused).

    Loss (:meth:`loss_by_outputs`): every output against the target
    max-pooled to its resolution (:meth:`match_target`), each weighted
    ``1 / len(outputs)`` (:meth:`loss_weights`).

    Args:
        in_channels (Sequence[int]): channels of d_0 ... d_n.
        side_kernel_size (int): kernel of the side convs (1 in the
            reference; its code keeps a 3x3 variant in a comment).
        fuse_kernel_size (int): kernel of the fusion conv.
        warm_up_epochs (int): the reference's ``warm_epoch``; -1 for none.
    """

    def __init__(self,
                 in_channels: Sequence[int] = (16, 32, 64, 128),
                 side_kernel_size: int = 1,
                 fuse_kernel_size: int = 3,
                 warm_up_epochs: int = 5,
                 **kwargs):
        if kwargs.get('output_weights') is not None:
            raise ValueError(
                'MSHNetHead weights its outputs equally (1 / number of '
                'outputs, as the reference); remove decode_head.'
                'output_weights')
        super().__init__(**kwargs)
        self.in_channels = list(in_channels)
        self.side_convs = nn.ModuleList(
            nn.Conv2d(channels, 1, side_kernel_size,
                      padding=side_kernel_size // 2)
            for channels in self.in_channels)
        self.fuse_conv = nn.Conv2d(len(self.in_channels), 1,
                                   fuse_kernel_size,
                                   padding=fuse_kernel_size // 2)
        self.warm_up_epochs = warm_up_epochs

    def forward(self, feats) -> List[Tensor]:
        if self.warming_up:
            return [self.side_convs[0](feats[0])]
        sides = [conv(feat) for conv, feat in zip(self.side_convs, feats)]
        size = sides[0].shape[-2:]
        upsampled = [sides[0]] + [
            F.interpolate(side, size, mode='bilinear', align_corners=True)
            for side in sides[1:]
        ]
        return [self.fuse_conv(torch.cat(upsampled, dim=1)), *sides]

    def loss_weights(self, num_outputs: int) -> List[float]:
        return [1.0 / num_outputs] * num_outputs

    def match_target(self, logits: Tensor,
                     target: Tensor) -> Tuple[Tensor, Tensor]:
        """``target`` max-pooled by the integer factor that gives the size
        of ``logits`` (the reference's repeated 2x2 max pooling of the
        labels)."""
        size = logits.shape[-2:]
        height, width = target.shape[-2:]
        factor = height // size[0]
        if factor < 1 or (height, width) != (size[0] * factor,
                                             size[1] * factor):
            raise ValueError(
                f'MSHNetHead: an output of size {tuple(size)} is not the '
                f'target size {height}x{width} divided by an integer')
        return logits, (target if factor == 1 else
                        F.max_pool2d(target, factor))
