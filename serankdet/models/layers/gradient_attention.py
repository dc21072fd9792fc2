"""Gradient attention: the DATrans module of DATransNet (Hu et al., 2024)."""
import math
from typing import Sequence, Tuple, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.model import BaseModule
from torch import Tensor

from serankdet.registry import MODELS
from .transposed_attention import transposed_attention

# (dy, dx) of the 8 neighbours, in the reference's channel order
NEIGHBOUR_OFFSETS = ((-1, -1), (-1, 0), (-1, 1), (0, -1), (0, 1), (1, -1),
                     (1, 0), (1, 1))


def difference_kernel(weight: Tensor) -> Tensor:
    """3x3 kernel of a 1x1 projection of the 8 central differences.

    A 1x1 conv with weight ``W`` (O, 8C, 1, 1) applied to the differences
    ``D_k = shift_k(x) - x`` (channels ``k*C .. (k+1)*C - 1`` for offset k of
    :data:`NEIGHBOUR_OFFSETS`) equals ``sum_k W_k shift_k(x) - (sum_k W_k) x``:
    one 3x3 conv of ``x`` itself whose tap (1+dy, 1+dx) is ``W_k`` and whose
    centre tap is ``-sum_k W_k``. Convolving ``x`` (padded like the
    differences, dilation d) with this kernel never builds the (B, 8C, H, W)
    difference tensor: less memory traffic, same maths up to rounding.

    Args:
        weight (Tensor): (O, 8C, 1, 1).

    Returns:
        Tensor: (O, C, 3, 3).
    """
    out_channels = weight.shape[0]
    taps = weight.view(out_channels, len(NEIGHBOUR_OFFSETS), -1)
    # the offsets are the raster order of the 3x3 window without its centre
    centre = len(NEIGHBOUR_OFFSETS) // 2
    taps = torch.cat([taps[:, :centre], -taps.sum(dim=1, keepdim=True),
                      taps[:, centre:]], dim=1)
    return taps.transpose(1, 2).reshape(out_channels, -1, 3, 3)


@MODELS.register_module()
class GradientAttention(BaseModule):
    """Channel attention between a feature and its local gradients (DATrans).

    For every dilation d_i the query is ``Q_i = conv1x1(x)`` (B, h, H, W) and
    the key and value are 1x1 projections of the 8-direction central
    differences ``x[i + dy*d, j + dx*d] - x[i, j]`` (reflect padding),
    ``K_i, V_i`` (B, 8h, H, W), with ``h = embed_channels /
    len(dilations)``; both are computed as one 3x3 dilated conv of x
    (:func:`difference_kernel`). The per-dilation tensors are stacked on dim 2
    and viewed as ``num_heads = len(dilations)`` heads of (h, N) / (8h, N) with
    N = H*W: as in the reference, the dilation axis sits inside the channel
    axis, so each head holds channel/dilation pairs ``c * num_heads + i``
    (both dilations interleaved), not one dilation. Per head, Q and K are
    L2-normalised over tokens and ``A = softmax(InstanceNorm(Q K^T /
    sqrt(area)))`` (h, 8h) is a transposed (channel) attention, linear in N;
    ``out = A V`` is reshaped to (B, embed_channels, H, W) and projected
    back by conv1x1-BN-ReLU.

    ``area`` is fixed at construction from ``ref_size`` (the feature size at
    the training resolution), not from the input: the reference builds the
    model for one image size, and the constant changes the output because
    the scaled scores sit near InstanceNorm's eps.

    Args:
        in_channels (int): C, also the output channels.
        embed_channels (int): channels of the attended features (all heads).
        dilations (Sequence[int]): neighbour distances, one head each.
        ref_size (int | tuple[int, int]): (height, width) of this feature at
            the model's ``img_size``; area = height * width.

    Shapes: (B, C, H, W) -> (B, C, H, W).
    """

    def __init__(self,
                 in_channels: int,
                 embed_channels: int,
                 dilations: Sequence[int] = (1, 3),
                 ref_size: Union[int, Tuple[int, int]] = 256,
                 init_cfg=None):
        super().__init__(init_cfg)
        if embed_channels % len(dilations):
            raise ValueError(
                f'GradientAttention: embed_channels ({embed_channels}) must '
                f'be divisible by the number of dilations ({len(dilations)})')
        ref_h, ref_w = ((ref_size, ref_size) if isinstance(ref_size, int)
                        else ref_size)
        self.dilations = list(dilations)
        self.num_heads = len(self.dilations)
        self.embed_channels = embed_channels
        self.area = ref_h * ref_w
        hidden = embed_channels // self.num_heads
        directions = len(NEIGHBOUR_OFFSETS)
        self.query_convs = nn.ModuleList(
            nn.Conv2d(in_channels, hidden, 1, bias=False)
            for _ in self.dilations)
        self.key_convs = nn.ModuleList(
            nn.Conv2d(in_channels * directions, hidden * directions, 1,
                      bias=False) for _ in self.dilations)
        self.value_convs = nn.ModuleList(
            nn.Conv2d(in_channels * directions, hidden * directions, 1,
                      bias=False) for _ in self.dilations)
        self.out_conv = nn.Sequential(
            nn.Conv2d(embed_channels, in_channels, 1, bias=False),
            nn.BatchNorm2d(in_channels), nn.ReLU(inplace=True))

    def forward(self, x: Tensor) -> Tensor:
        batch, _, height, width = x.shape
        queries, keys, values = [], [], []
        for dilation, query_conv, key_conv, value_conv in zip(
                self.dilations, self.query_convs, self.key_convs,
                self.value_convs):
            queries.append(query_conv(x))
            kernel = difference_kernel(
                torch.cat([key_conv.weight, value_conv.weight]))
            key, value = F.conv2d(
                F.pad(x, (dilation, ) * 4, mode='reflect'), kernel,
                dilation=dilation).chunk(2, dim=1)
            keys.append(key)
            values.append(value)

        def heads(tensors):
            # (B, Ch, nh, H, W) -> (B, nh, Ch, N): heads cut the flattened
            # (channel, dilation) axis, as in the reference
            return torch.stack(tensors, dim=2).reshape(
                batch, self.num_heads, -1, height * width)

        out = transposed_attention(heads(queries), heads(keys), heads(values),
                                   math.sqrt(self.area))
        return self.out_conv(
            out.reshape(batch, self.embed_channels, height, width))
