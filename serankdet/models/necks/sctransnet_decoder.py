"""SCTransNet's neck: spatial-channel cross transformer on the skips and a
decoder with channel cross attention."""
from typing import Sequence, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.model import BaseModule
from torch import Tensor

from serankdet.registry import MODELS
from ..layers.conv_bn_relu import conv_bn_relu_stack
from ..layers.spatial_channel_transformer import \
    SpatialChannelCrossTransformer


class ChannelCrossUpBlock(nn.Module):
    """Decoder step whose skip is gated by channel cross attention (CCA).

    ``u = up2_nearest(d)``; the skip s is reweighted per channel by both
    features' global averages: ``s' = relu(s * sigmoid((fc_s(avg s) +
    fc_u(avg u)) / 2))`` (two linear layers with bias); the output is
    ``num_convs`` conv3x3-BN-ReLU layers on ``cat([s', u])`` (skip first,
    as in the reference).

    Args:
        skip_channels (int): channels of s.
        up_channels (int): channels of d.
        out_channels (int): output channels.
        num_convs (int): conv-BN-ReLU layers after the concatenation.

    Shapes: d (B, up_channels, H/2, W/2), s (B, skip_channels, H, W) ->
    (B, out_channels, H, W).
    """

    def __init__(self, skip_channels: int, up_channels: int,
                 out_channels: int, num_convs: int = 2):
        super().__init__()
        self.skip_fc = nn.Linear(skip_channels, skip_channels)
        self.up_fc = nn.Linear(up_channels, skip_channels)
        self.convs = conv_bn_relu_stack(skip_channels + up_channels,
                                        out_channels, num_convs)

    def forward(self, d: Tensor, skip: Tensor) -> Tensor:
        up = F.interpolate(d, scale_factor=2, mode='nearest')
        logits = (self.skip_fc(F.adaptive_avg_pool2d(skip, 1).flatten(1)) +
                  self.up_fc(F.adaptive_avg_pool2d(up, 1).flatten(1))) / 2.0
        skip = F.relu(skip * logits.sigmoid()[:, :, None, None])
        return self.convs(torch.cat([skip, up], dim=1))


@MODELS.register_module()
class SCTransNetDecoder(BaseModule):
    """Decode SCTransNet encoder features ``[e_0, ..., e_n]`` (finest first).

    Skips: ``s_i = T(e_0..e_{n-1})_i + e_i`` for i < n, with T the
    :class:`SpatialChannelCrossTransformer` (whose own output already adds
    e_i: the reference adds the encoder feature twice). Decoder:
    ``d_n = e_n``, ``d_i = ChannelCrossUpBlock_i(d_{i+1}, s_i)``. Returns
    ``(d_0, ..., d_n)``, finest first (d_0 at input resolution), the maps
    the head and the deep supervision read.

    Args:
        in_channels (Sequence[int]): channels of the encoder features.
        out_channels (Sequence[int]): channels of d_0 .. d_{n-1}.
        patch_sizes (Sequence[int]): transformer patch size of each skip
            level (one token grid for all levels).
        num_layers (int): transformer blocks.
        ffn_expansion (float): transformer feed-forward width factor.
        num_convs (int): conv-BN-ReLU layers per decoder block.
    """

    def __init__(self,
                 in_channels: Sequence[int] = (32, 64, 128, 256, 256),
                 out_channels: Sequence[int] = (32, 32, 64, 128),
                 patch_sizes: Sequence[int] = (16, 8, 4, 2),
                 num_layers: int = 4,
                 ffn_expansion: float = 2.66,
                 num_convs: int = 2,
                 init_cfg=None):
        super().__init__(init_cfg)
        self.in_channels = list(in_channels)
        levels = len(self.in_channels) - 1
        if len(out_channels) != levels:
            raise ValueError(
                f'{type(self).__name__}: out_channels needs {levels} entries '
                f'(one per skip level of in_channels={self.in_channels})')
        self.transformer = SpatialChannelCrossTransformer(
            self.in_channels[:-1], patch_sizes, num_layers, ffn_expansion)
        up_channels = list(out_channels[1:]) + [self.in_channels[-1]]
        self.decoder_blocks = nn.ModuleList(
            ChannelCrossUpBlock(self.in_channels[i], up_channels[i],
                                out_channels[i], num_convs)
            for i in range(levels))

    def forward(self, feats: Sequence[Tensor]) -> Tuple[Tensor, ...]:
        skips = [
            s + e for s, e in zip(self.transformer(feats[:-1]), feats[:-1])
        ]
        decoded = [feats[-1]]
        for index in range(len(skips) - 1, -1, -1):
            decoded.insert(0, self.decoder_blocks[index](decoded[0],
                                                         skips[index]))
        return tuple(decoded)
