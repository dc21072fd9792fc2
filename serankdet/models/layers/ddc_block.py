"""DDC block: SeRankDet's encoder stage (plain, difference, dilated)."""
from typing import Sequence

import torch
import torch.nn as nn
from mmengine.model import BaseModule
from torch import Tensor

from serankdet.registry import MODELS
from .conv_bn_relu import conv_bn_relu
from .difference_conv import CentralDifferenceConv2d


@MODELS.register_module()
class DDCBlock(BaseModule):
    """Three parallel branches on the same input, concatenated and fused.

    * ``plain_branch``: 3x3 conv-BN-ReLU ``in->in``, ``in->out``, ``out->out``;
    * ``difference_branch``: one :class:`CentralDifferenceConv2d`
      ``in->out`` -> BN -> ReLU;
    * ``dilated_branch``: like the plain branch with ``dilations``
      (2, 4, 2 in SeRankDet);
    * ``fuse``: 3x3 conv-BN-ReLU on the concatenation ``3*out -> out``.

    Input (B, in, H, W) -> (B, out, H, W). The first layers of the plain and
    dilated branches keep ``in`` channels, as the reference does.

    Args:
        in_channels (int): input channels.
        out_channels (int): output channels.
        dilations (Sequence[int]): dilations of the three dilated convs.
        theta (float): difference weight of the difference conv.
    """

    def __init__(self, in_channels: int, out_channels: int,
                 dilations: Sequence[int] = (2, 4, 2), theta: float = 0.7,
                 init_cfg=None):
        super().__init__(init_cfg)
        if len(dilations) != 3:
            raise ValueError(f'DDCBlock needs 3 dilations, got {dilations}')
        widths = (in_channels, in_channels, out_channels, out_channels)
        self.plain_branch = nn.Sequential(
            *(conv_bn_relu(widths[i], widths[i + 1]) for i in range(3)))
        self.difference_branch = conv_bn_relu(
            in_channels, out_channels, conv_type=CentralDifferenceConv2d,
            theta=theta)
        self.dilated_branch = nn.Sequential(
            *(conv_bn_relu(widths[i], widths[i + 1], dilations[i])
              for i in range(3)))
        self.fuse = conv_bn_relu(3 * out_channels, out_channels)

    def forward(self, x: Tensor) -> Tensor:
        return self.fuse(torch.cat([
            self.plain_branch(x), self.difference_branch(x),
            self.dilated_branch(x)], dim=1))
