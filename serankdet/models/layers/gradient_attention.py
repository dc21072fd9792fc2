"""Gradient attention: the DATrans module of DATransNet (Hu et al., 2024)."""
import math
from typing import Sequence, Tuple, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.model import BaseModule
from torch import Tensor

from serankdet.registry import MODELS

# (dy, dx) of the 8 neighbours, in the reference's channel order
NEIGHBOUR_OFFSETS = ((-1, -1), (-1, 0), (-1, 1), (0, -1), (0, 1), (1, -1),
                     (1, 0), (1, 1))


def central_differences(x: Tensor, dilation: int) -> Tensor:
    """Fixed 8-direction central differences of a feature map.

    For every offset (dy, dx) of :data:`NEIGHBOUR_OFFSETS` this computes
    ``x[i + dy*d, j + dx*d] - x[i, j]`` with reflect padding (the edge pixel
    is not repeated), and concatenates the 8 maps neighbour-major: channels
    ``k*C .. (k+1)*C - 1`` hold offset k.

    Args:
        x (Tensor): (B, C, H, W), with H, W > ``dilation``.
        dilation (int): distance d of the neighbours.

    Returns:
        Tensor: (B, 8C, H, W).
    """
    d = dilation
    height, width = x.shape[-2:]
    padded = F.pad(x, (d, d, d, d), mode='reflect')
    return torch.cat([
        padded[..., d + dy * d:d + dy * d + height,
               d + dx * d:d + dx * d + width] - x
        for dy, dx in NEIGHBOUR_OFFSETS
    ], dim=1)


@MODELS.register_module()
class GradientAttention(BaseModule):
    """Channel attention between a feature and its local gradients (DATrans).

    For every dilation d_i the query is ``Q_i = conv1x1(x)`` (B, h, H, W) and
    the key and value are 1x1 projections of the 8-direction central
    differences, ``K_i, V_i`` (B, 8h, H, W), with ``h = embed_channels /
    len(dilations)``. The per-dilation tensors are stacked on dim 2 and
    viewed as ``num_heads = len(dilations)`` heads of (h, N) / (8h, N) with
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
            diffs = central_differences(x, dilation)
            queries.append(query_conv(x))
            keys.append(key_conv(diffs))
            values.append(value_conv(diffs))

        def heads(tensors):
            # (B, Ch, nh, H, W) -> (B, nh, Ch, N): heads cut the flattened
            # (channel, dilation) axis, as in the reference
            return torch.stack(tensors, dim=2).reshape(
                batch, self.num_heads, -1, height * width)

        query = F.normalize(heads(queries), dim=-1)
        key = F.normalize(heads(keys), dim=-1)
        scores = torch.matmul(query, key.transpose(-2, -1))
        scores = F.instance_norm(scores / math.sqrt(self.area))
        out = torch.matmul(scores.softmax(dim=-1), heads(values))
        return self.out_conv(
            out.reshape(batch, self.embed_channels, height, width))
