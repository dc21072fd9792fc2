"""Binary cross-entropy on logits."""
import torch
import torch.nn as nn

from serankdet.registry import MODELS


@MODELS.register_module()
class SigmoidBCELoss(nn.Module):
    """Binary cross-entropy of logits ``(N, 1, H, W)`` against a binary
    target of the same shape, mean over all pixels.

    Args:
        pos_weight (float, optional): weight of target pixels (they are rare).
        through_probability (bool): compute ``BCELoss(sigmoid(logits))`` in
            the logits' dtype, as the official SAM-SPL, UIU-Net and SCTransNet
            code does, instead of BCE with logits. The two agree except where
            the sigmoid rounds to 0 or 1 (in float32 a logit above about
            16.6): there torch's ``BCELoss`` clamps ``log`` at -100, so such a
            pixel on the wrong side costs 100 and gets no gradient, while BCE
            with logits keeps pulling it back. Off by default; on to reproduce
            the official training where a random initialisation saturates.
        loss_weight (float): multiplier of the loss.
        loss_name (str): key of the loss in the log.
    """

    def __init__(self, pos_weight=None, through_probability=False,
                 loss_weight=1.0, loss_name='loss_bce'):
        super().__init__()
        if through_probability and pos_weight is not None:
            raise ValueError(
                'SigmoidBCELoss: pos_weight is not supported with '
                'through_probability=True (the official BCELoss has no '
                'positive weight); set one of them only.')
        self.pos_weight = pos_weight
        self.through_probability = through_probability
        self.loss_weight = loss_weight
        self._loss_name = loss_name

    def forward(self, logits, target):
        target = target.to(logits)
        if self.through_probability:
            loss = nn.functional.binary_cross_entropy(
                torch.sigmoid(logits), target)
        else:
            pos_weight = (None if self.pos_weight is None else
                          logits.new_tensor(self.pos_weight))
            loss = nn.functional.binary_cross_entropy_with_logits(
                logits, target, pos_weight=pos_weight)
        return self.loss_weight * loss

    @property
    def loss_name(self):
        return self._loss_name
