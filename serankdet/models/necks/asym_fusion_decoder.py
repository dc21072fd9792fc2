"""Top-down decoder of ACM and ALCNet: transposed-conv upsampling and
asymmetric bi-directional fusion with the encoder features."""
from typing import Optional, Sequence, Tuple

import torch.nn as nn
from mmengine.model import BaseModule
from torch import Tensor

from serankdet.registry import MODELS
from ..layers.asym_bi_cha_fuse import AsymBiChaFuse
from ..layers.basic_res_layer import basic_res_layer


def up_conv(in_channels: int, out_channels: int) -> nn.ConvTranspose2d:
    """Transposed conv 4x4, stride 2, padding 1 (with bias): doubles H, W."""
    return nn.ConvTranspose2d(in_channels, out_channels, 4, stride=2,
                              padding=1)


@MODELS.register_module()
class AsymFusionDecoder(BaseModule):
    """Decode encoder features ``[c_0, ..., c_n]`` (finest first, each half
    the size of the previous) from the coarsest.

    ``d_n = c_n``; for i = n-1 .. 0::

        d_i = res_layer_i(AsymBiChaFuse_i(high=up_conv_i(d_{i+1}), low=c_i))

    where ``res_layer_i`` is :func:`basic_res_layer` with ``num_blocks``
    blocks, or nothing for ``num_blocks=0``. With ``out_channels`` a last
    :func:`up_conv` maps d_0 to ``out_channels`` at twice its resolution.
    Returns ``(d_0, )``, or ``(up_conv(d_0), )``.

    ACM (BasicIRSTD ``ASKCResUNet``): ``num_blocks=3``, no last up-conv
    (output at 1/4 of the input). ALCNet (BasicIRSTD ``ASKCResNetFPN``):
    ``num_blocks=0``, ``out_channels=8`` (output at 1/2); the reference
    also builds residual layers ``uplayer1``/``uplayer2`` that its forward
    never uses, which are not built here.

    Args:
        in_channels (Sequence[int]): channels of c_0 .. c_n.
        num_blocks (int): basic blocks after each fusion (0: none).
        out_channels (int, optional): channels of the last up-conv; None:
            no last up-conv.
        reduction (int): bottleneck ratio of the fusion attentions.
        bn_momentum (float): PyTorch momentum of the fusion BNs (the
            reference's 0.9, see :class:`AsymBiChaFuse`).
    """

    def __init__(self,
                 in_channels: Sequence[int] = (16, 32, 64),
                 num_blocks: int = 3,
                 out_channels: Optional[int] = None,
                 reduction: int = 4,
                 bn_momentum: float = 0.9,
                 init_cfg=None):
        super().__init__(init_cfg)
        self.in_channels = list(in_channels)
        levels = range(len(self.in_channels) - 1)
        self.up_convs = nn.ModuleList(
            up_conv(self.in_channels[i + 1], self.in_channels[i])
            for i in levels)
        self.fusions = nn.ModuleList(
            AsymBiChaFuse(self.in_channels[i], reduction, bn_momentum)
            for i in levels)
        self.res_layers = nn.ModuleList(
            basic_res_layer(self.in_channels[i], self.in_channels[i],
                            num_blocks)
            for i in levels) if num_blocks else None
        self.out_conv = (up_conv(self.in_channels[0], out_channels)
                         if out_channels else None)

    def forward(self, feats: Sequence[Tensor]) -> Tuple[Tensor]:
        sizes = [tuple(f.shape[-2:]) for f in feats]
        if any(2 * h != h_fine or 2 * w != w_fine
               for (h_fine, w_fine), (h, w) in zip(sizes, sizes[1:])):
            stride = 2**(len(feats) + 1)
            raise ValueError(
                f'{type(self).__name__} needs encoder features that halve '
                f'from level to level, got sizes {sizes}: the input sides '
                f'must be multiples of {stride}; pad the input '
                f'(data_preprocessor.size_divisor={stride} or a multiple).')
        decoded = feats[-1]
        for index in range(len(feats) - 2, -1, -1):
            decoded = self.fusions[index](self.up_convs[index](decoded),
                                          feats[index])
            if self.res_layers is not None:
                decoded = self.res_layers[index](decoded)
        if self.out_conv is not None:
            decoded = self.out_conv(decoded)
        return (decoded, )
