"""SCTransNet's head: main logits, four side outputs and their fusion."""
import torch
import torch.nn as nn

from serankdet.registry import MODELS
from .irstd_head import IRSTDHead


@MODELS.register_module()
class SCTransNetHead(IRSTDHead):
    """:class:`IRSTDHead` with 1x1 side convs plus a fused map.

    On the decoder features ``[f_0, ..., f_4]`` (finest first) it returns
    ``[out, side_4, side_3, side_2, side_1, fused]``, each (B, 1, H, W)
    logits: ``out = conv1x1(f_0)`` (the main prediction, the map the
    reference tests), ``side_i = up(conv1x1(f_i))`` (bilinear,
    ``align_corners=True`` as in the reference) and ``fused =
    conv1x1(cat[side_1, side_2, side_3, side_4, out])``. The reference's
    training sums the same loss over all six maps (weight 1 each); its
    sigmoid belongs to the loss and the metric here.

    Args:
        in_channels (Sequence[int]): channels of f_0 .. f_4.
        side_in_indices (Sequence[int]): features with a side output, in
            output order.
        align_corners (bool): of the side outputs' upsampling (and of any
            resizing of the logits by the segmentor); the reference's True.
    """

    def __init__(self,
                 in_channels=(32, 32, 64, 128, 256),
                 side_in_indices=(4, 3, 2, 1),
                 align_corners: bool = True,
                 **kwargs):
        super().__init__(in_channels, main_kernel_size=1,
                         side_in_indices=side_in_indices, side_kernel_size=1,
                         align_corners=align_corners, **kwargs)
        self.fuse_conv = nn.Conv2d(len(self.side_in_indices) + 1, 1, 1)

    def forward(self, feats):
        outputs = super().forward(feats)
        # the reference fuses cat(gt2, gt3, gt4, gt5, out): the reverse of
        # the output order
        return outputs + [self.fuse_conv(torch.cat(outputs[::-1], dim=1))]
