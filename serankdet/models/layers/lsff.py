"""LSFF: SeRankDet's skip-connection fusion."""
import torch
import torch.nn as nn
from mmengine.model import BaseModule
from torch import Tensor

from serankdet.registry import MODELS


@MODELS.register_module()
class LSFF(BaseModule):
    """Fuse an encoder skip feature with the upsampled decoder feature.

    For enc, dec (B, C, h, w) and s = cat[enc, dec] (B, 2C, h, w):
    ``w = sigmoid(conv7x7([mean_c(s), max_c(s)]))`` (2 maps),
    ``a = conv1x1(enc * w_0 + dec * w_1)`` (2C channels),
    output ``gamma * s * a + s`` (B, 2C, h, w). ``gamma`` starts at 0, so at
    initialisation LSFF is plain concatenation.

    Args:
        channels (int): C, the channels of each input.
    """

    def __init__(self, channels: int, init_cfg=None):
        super().__init__(init_cfg)
        self.channels = channels
        self.conv_squeeze = nn.Conv2d(2, 2, 7, padding=3)
        self.conv = nn.Conv2d(channels, 2 * channels, 1)
        self.gamma = nn.Parameter(torch.zeros(1))

    def forward(self, enc: Tensor, dec: Tensor) -> Tensor:
        stacked = torch.cat([enc, dec], dim=1)
        pooled = torch.cat([stacked.mean(dim=1, keepdim=True),
                            stacked.amax(dim=1, keepdim=True)], dim=1)
        weights = self.conv_squeeze(pooled).sigmoid()
        attention = self.conv(enc * weights[:, :1] + dec * weights[:, 1:])
        return self.gamma * (stacked * attention) + stacked
