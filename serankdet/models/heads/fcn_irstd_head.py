"""The FCN head of ACM and ALCNet: conv3x3-BN-ReLU, dropout, conv1x1."""
import torch.nn as nn

from serankdet.registry import MODELS
from .base_irstd_head import BaseIRSTDHead


@MODELS.register_module()
class FCNIRSTDHead(BaseIRSTDHead):
    """``conv1x1(Dropout(ReLU(BN(conv3x3(f_0)))))``: one logit map.

    The 3x3 conv (no bias) narrows ``in_channels`` to ``in_channels //
    4``; the 1x1 conv (with bias) gives the logits. Takes the finest
    feature f_0 (B, in_channels, h, w) and returns ``[logits (B, 1, h, w)]``
    at f_0's resolution; the segmentor resizes them bilinearly to the input
    (ACM and ALCNet upsample their head output the same way, then apply the
    sigmoid, which here belongs to the loss and the metric). No deep
    supervision.

    Args:
        in_channels (int): channels of f_0.
        dropout_ratio (float): dropout before the 1x1 conv.
        bn_momentum (float): PyTorch momentum of the BN (the references'
            0.9, see :class:`AsymBiChaFuse`).
    """

    def __init__(self,
                 in_channels: int = 16,
                 dropout_ratio: float = 0.1,
                 bn_momentum: float = 0.9,
                 **kwargs):
        super().__init__(**kwargs)
        hidden = in_channels // 4
        self.conv = nn.Sequential(
            nn.Conv2d(in_channels, hidden, 3, padding=1, bias=False),
            nn.BatchNorm2d(hidden, momentum=bn_momentum),
            nn.ReLU(inplace=True))
        self.dropout = nn.Dropout(dropout_ratio)
        self.conv_seg = nn.Conv2d(hidden, 1, 1)

    def forward(self, feats):
        return [self.conv_seg(self.dropout(self.conv(feats[0])))]
