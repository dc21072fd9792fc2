"""DATransNet's neck: gradient attention on the skips, GFEM bottleneck and
gated decoder."""
from typing import Sequence, Tuple, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.model import BaseModule
from torch import Tensor

from serankdet.registry import MODELS
from ..layers.conv_bn_relu import conv_bn_relu_stack
from ..layers.gfem import GFEM
from ..layers.gradient_attention import GradientAttention


class GatedUpBlock(nn.Module):
    """Decoder step gated by the raw encoder feature.

    ``u = up2(d) * sigmoid(conv1x1(e))`` where e is the encoder feature of
    this level; the output is ``num_convs`` conv3x3-BN-ReLU layers (the
    reference's ``CBN``) on ``cat([s, u])`` with s the attended skip (first,
    as in the reference).

    Args:
        skip_channels (int): channels of s and e.
        up_channels (int): channels of d.
        out_channels (int): output channels.
        num_convs (int): conv-BN-ReLU layers after the concatenation.

    Shapes: d (B, up_channels, H/2, W/2), s and e (B, skip_channels, H, W)
    -> (B, out_channels, H, W).
    """

    def __init__(self, skip_channels: int, up_channels: int,
                 out_channels: int, num_convs: int = 2):
        super().__init__()
        self.gate_conv = nn.Conv2d(skip_channels, up_channels, 1)
        self.convs = conv_bn_relu_stack(skip_channels + up_channels,
                                        out_channels, num_convs)

    def forward(self, d: Tensor, skip: Tensor, enc: Tensor) -> Tensor:
        up = F.interpolate(d, scale_factor=2, mode='bilinear',
                           align_corners=False)
        up = up * self.gate_conv(enc).sigmoid()
        return self.convs(torch.cat([skip, up], dim=1))


@MODELS.register_module()
class DATransNetDecoder(BaseModule):
    """Decode DATransNet encoder features ``[e_0, ..., e_n]`` (finest first).

    Skips: ``s_i = GradientAttention_i(e_i)`` for i < n, with the attention's
    area constant taken from ``img_size / 2**i``. Bottleneck:
    ``d_n = GFEM(e_n)``. Decoder: ``d_i = GatedUpBlock_i(d_{i+1}, s_i, e_i)``.
    Returns ``(d_0, ..., d_n)``, finest first (d_0 at input resolution).

    The reference's ``decoder5`` is never used in its forward and is not
    built.

    Args:
        in_channels (Sequence[int]): channels of the encoder features.
        out_channels (Sequence[int]): channels of d_0 .. d_{n-1}.
        img_size (int | tuple[int, int]): training image size (h, w) the
            model is built for; it fixes the attention constants (the
            reference: 256 for NUDT-SIRST, 512 for IRSTD-1k).
        attn_channels (Sequence[int]): embed channels of each skip attention.
        attn_dilations (Sequence[Sequence[int]]): dilations (= heads) of each
            skip attention.
        num_convs (int): conv-BN-ReLU layers per decoder block.
    """

    def __init__(self,
                 in_channels: Sequence[int] = (16, 32, 64, 128, 128),
                 out_channels: Sequence[int] = (16, 16, 32, 64),
                 img_size: Union[int, Tuple[int, int]] = 256,
                 attn_channels: Sequence[int] = (16, 32, 32, 32),
                 attn_dilations: Sequence[Sequence[int]] = ((1, 3), (1, 3),
                                                            (1, 3), (1, )),
                 num_convs: int = 2,
                 init_cfg=None):
        super().__init__(init_cfg)
        self.in_channels = list(in_channels)
        levels = len(self.in_channels) - 1
        if not (len(out_channels) == len(attn_channels) ==
                len(attn_dilations) == levels):
            raise ValueError(
                f'{type(self).__name__}: out_channels, attn_channels and '
                f'attn_dilations need {levels} entries each (one per skip '
                f'level of in_channels={self.in_channels})')
        img_h, img_w = ((img_size, img_size) if isinstance(img_size, int)
                        else tuple(img_size))
        self.img_size = (img_h, img_w)
        # GFEM pools the coarsest feature once more
        self.size_divisor = 2**(levels + 1)
        self.skip_attentions = nn.ModuleList(
            GradientAttention(self.in_channels[i], attn_channels[i],
                              attn_dilations[i],
                              (img_h // 2**i, img_w // 2**i))
            for i in range(levels))
        self.bottleneck = GFEM(self.in_channels[-1])
        up_channels = list(out_channels[1:]) + [self.in_channels[-1]]
        self.decoder_blocks = nn.ModuleList(
            GatedUpBlock(self.in_channels[i], up_channels[i], out_channels[i],
                         num_convs) for i in range(levels))

    def forward(self, feats: Sequence[Tensor]) -> Tuple[Tensor, ...]:
        height, width = feats[0].shape[-2:]
        if height % self.size_divisor or width % self.size_divisor:
            raise ValueError(
                f'{type(self).__name__} needs input sides that are multiples '
                f'of {self.size_divisor}, got {height}x{width} (the GFEM '
                f'bottleneck pools the 1/{self.size_divisor // 2} feature '
                'once more); pad the input '
                f'(data_preprocessor.size_divisor={self.size_divisor}).')
        decoded = [self.bottleneck(feats[-1])]
        for index in range(len(feats) - 2, -1, -1):
            skip = self.skip_attentions[index](feats[index])
            decoded.insert(0, self.decoder_blocks[index](decoded[0], skip,
                                                         feats[index]))
        return tuple(decoded)
