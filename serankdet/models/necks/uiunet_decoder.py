"""UIU-Net's decoder: residual U-blocks fed through interactive-cross
attention."""
from typing import List, Sequence

import torch
import torch.nn.functional as F
from mmengine.model import BaseModule
from torch import Tensor
from torch.nn import ModuleDict, ModuleList

from serankdet.registry import MODELS
from ..layers.interactive_cross_attention import InteractiveCrossAttention
from ..layers.rsu_block import RSUBlock


@MODELS.register_module()
class UIUNetDecoder(BaseModule):
    """Decode encoder features ``[e_0, ..., e_n]`` (finest first).

    From ``d_n = e_n`` down to level 0: ``u = up(d_{i+1})`` (bilinear,
    align_corners=False, to the size of e_i), then
    ``d_i = RSU_i(IC-A_i(u, e_i))`` at the levels in ``attention_levels``
    (:class:`InteractiveCrossAttention`, u as the high-level input) and
    ``d_i = RSU_i(cat([u, e_i]))`` elsewhere. The default is UIU-Net's:
    IC-A at levels 1-4, plain concatenation at the finest level, decoder
    blocks RSU-7, -6, -5, -4, -4F (finest first) with widths
    16 -> 64, 32 -> 64, 64 -> 128, 128 -> 256, 256 -> 512.

    Returns ``[d_0, ..., d_{n-1}, e_n]``, finest first: the features
    UIU-Net's side outputs read.

    Args:
        in_channels (Sequence[int]): channels of e_0 .. e_n.
        mid_channels (Sequence[int]): inner width of RSU_0 .. RSU_{n-1}.
        out_channels (Sequence[int]): channels of d_0 .. d_{n-1}.
        depths (Sequence[int]): RSU depth L of each decoder block.
        dilated (Sequence[bool]): which decoder blocks are RSU-LF.
        attention_levels (Sequence[int]): levels fused by IC-A.
        reduction (int): bottleneck ratio of the IC-A attentions.
    """

    def __init__(self,
                 in_channels: Sequence[int] = (64, 128, 256, 512, 512, 512),
                 mid_channels: Sequence[int] = (16, 32, 64, 128, 256),
                 out_channels: Sequence[int] = (64, 64, 128, 256, 512),
                 depths: Sequence[int] = (7, 6, 5, 4, 4),
                 dilated: Sequence[bool] = (False, False, False, False,
                                            True),
                 attention_levels: Sequence[int] = (1, 2, 3, 4),
                 reduction: int = 4,
                 init_cfg=None):
        super().__init__(init_cfg)
        num_levels = len(in_channels) - 1
        specs = (mid_channels, out_channels, depths, dilated)
        if any(len(spec) != num_levels for spec in specs):
            raise ValueError(
                f'UIUNetDecoder: {len(in_channels)} encoder features need '
                f'{num_levels} values in mid_channels, out_channels, depths '
                f'and dilated, got lengths {[len(spec) for spec in specs]}')
        bad_levels = [i for i in attention_levels if not 0 <= i < num_levels]
        if bad_levels:
            raise ValueError(f'UIUNetDecoder: attention_levels {bad_levels} '
                             f'are not decoder levels 0..{num_levels - 1}')
        up_channels = [*out_channels[1:], in_channels[-1]]
        self.attentions = ModuleDict({
            str(level): InteractiveCrossAttention(
                up_channels[level], in_channels[level], reduction)
            for level in attention_levels
        })
        self.blocks = ModuleList(
            RSUBlock(2 * in_channels[level] if str(level) in self.attentions
                     else up_channels[level] + in_channels[level],
                     mid_channels[level], out_channels[level], depths[level],
                     dilated[level])
            for level in range(num_levels))

    def forward(self, feats: Sequence[Tensor]) -> List[Tensor]:
        out = feats[-1]
        decoded = [out]
        for level in reversed(range(len(self.blocks))):
            skip = feats[level]
            out = F.interpolate(out, skip.shape[-2:], mode='bilinear',
                                align_corners=False)
            key = str(level)
            fused = (self.attentions[key](out, skip)
                     if key in self.attentions else
                     torch.cat([out, skip], dim=1))
            out = self.blocks[level](fused)
            decoded.insert(0, out)
        return decoded
