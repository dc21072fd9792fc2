"""Binary cross-entropy on logits."""
import torch.nn as nn

from serankdet.registry import MODELS


@MODELS.register_module()
class SigmoidBCELoss(nn.Module):
    """Binary cross-entropy on logits, mean over all pixels.

    Args:
        pos_weight (float, optional): weight of target pixels (they are rare).
    """

    def __init__(self, pos_weight=None, loss_weight=1.0, loss_name='loss_bce'):
        super().__init__()
        self.pos_weight = pos_weight
        self.loss_weight = loss_weight
        self._loss_name = loss_name

    def forward(self, logits, target):
        pos_weight = (None if self.pos_weight is None else
                      logits.new_tensor(self.pos_weight))
        return self.loss_weight * nn.functional.binary_cross_entropy_with_logits(
            logits, target.to(logits), pos_weight=pos_weight)

    @property
    def loss_name(self):
        return self._loss_name
