"""Soft-IoU loss, as trained by SeRankDet and DATransNet."""
from serankdet.registry import MODELS
from .utils import RegionLoss


@MODELS.register_module()
class SoftIoULoss(RegionLoss):
    """1 - soft IoU of sigmoid(logits) and a binary target.

    ``L = 1 - (sum(p*t) + s) / (sum(p) + sum(t) - sum(p*t) + s)``; see
    :class:`RegionLoss` for ``reduction`` ('batch' is the references') and
    ``empty_weight`` (a charge for false positives on target-free samples,
    off by default: on a batch of target-free crops this loss is
    ``P / (P + s)`` with ``P = sum(p)``, saturated at 1 once a few pixels
    fire, see ``docs/empty_crops.md``).
    """

    def __init__(self, reduction='batch', smooth=1.0, loss_weight=1.0,
                 loss_name='loss_softiou', empty_weight=0.0):
        super().__init__(reduction, smooth, loss_weight, loss_name,
                         empty_weight)

    def score(self, inter, pred_sum, target_sum):
        return (inter + self.smooth) / (
            pred_sum + target_sum - inter + self.smooth)
