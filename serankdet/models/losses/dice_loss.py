"""Soft Dice loss for one output channel."""
from serankdet.registry import MODELS
from .utils import RegionLoss


@MODELS.register_module()
class SoftDiceLoss(RegionLoss):
    """1 - soft Dice of sigmoid(logits) and a binary (B, 1, H, W) target.

    ``L = 1 - (2*sum(p*t) + s) / (sum(p) + sum(t) + s)``, per image
    (``reduction='sample'``, averaged) or over the batch. Written for one
    output channel (mmseg's DiceLoss scores the background channel there).
    ``empty_weight``: see :class:`RegionLoss`.
    """

    def __init__(self, reduction='sample', smooth=1.0, loss_weight=1.0,
                 loss_name='loss_dice', empty_weight=0.0):
        super().__init__(reduction, smooth, loss_weight, loss_name,
                         empty_weight)

    def score(self, inter, pred_sum, target_sum):
        return (2 * inter + self.smooth) / (pred_sum + target_sum +
                                            self.smooth)
