"""The base of the region losses (soft IoU, soft Dice) and the
target-free-sample penalty they and the SLS loss can add."""
import torch
import torch.nn as nn
from torch import Tensor


def empty_target_penalty(probs: Tensor, target: Tensor) -> Tensor:
    """The mean probability of the samples without any target pixel,
    averaged over the batch (a sample with a target counts 0)::

        penalty = 1/B * sum_b [sum(t_b) == 0] * mean(p_b)

    It charges false positives on target-free crops linearly (gradient
    ``p (1 - p) / (B * C * H * W)`` per logit of such a crop, whatever the
    rest of the batch holds), where a region score saturates or is blind
    (see ``docs/empty_crops.md``).

    Args:
        probs (Tensor): (B, C, H, W) probabilities.
        target (Tensor): (B, C, H, W) target in [0, 1].

    Returns:
        Tensor: scalar.
    """
    dims = tuple(range(1, probs.dim()))
    empty = (target.sum(dims) == 0).to(probs)
    return (empty * probs.mean(dims)).mean()


class RegionLoss(nn.Module):
    """``1 - score(sum(p*t), sum(p), sum(t))`` of sigmoid(logits) and target.

    With ``reduction='batch'`` the sums run over the whole (B, 1, H, W)
    batch (one score per batch, the references' definition); with
    ``'sample'`` they run per image and the losses are averaged. Subclasses
    define :meth:`score`. ``empty_weight`` > 0 adds
    ``empty_weight * empty_target_penalty(p, t)``
    (:func:`empty_target_penalty`), a charge for false positives on
    target-free samples.

    Args:
        reduction (str): 'batch' or 'sample'.
        smooth (float): smoothing term of the score.
        loss_weight (float): multiplier of the loss.
        loss_name (str): key in the loss dict (must start with ``loss_``).
        empty_weight (float): weight of the target-free-sample penalty
            (0: none, the references' loss).

    Shapes: logits and target (B, 1, H, W) -> scalar.
    """

    def __init__(self, reduction, smooth, loss_weight, loss_name,
                 empty_weight=0.0):
        super().__init__()
        if reduction not in ('batch', 'sample'):
            raise ValueError(
                f"{type(self).__name__} reduction must be 'batch' or "
                f"'sample', got {reduction!r}")
        if empty_weight < 0:
            raise ValueError(f'{type(self).__name__} empty_weight must be '
                             f'>= 0, got {empty_weight}')
        self.reduction = reduction
        self.smooth = smooth
        self.loss_weight = loss_weight
        self.empty_weight = empty_weight
        self._loss_name = loss_name

    def score(self, inter, pred_sum, target_sum):
        raise NotImplementedError

    def forward(self, logits, target):
        probs = torch.sigmoid(logits)
        target = target.to(probs)
        dims = (tuple(range(1, probs.dim()))
                if self.reduction == 'sample' else tuple(range(probs.dim())))
        score = self.score((probs * target).sum(dims), probs.sum(dims),
                           target.sum(dims))
        loss = (1 - score).mean()
        if self.empty_weight:
            loss = loss + self.empty_weight * empty_target_penalty(
                probs, target)
        return self.loss_weight * loss

    @property
    def loss_name(self):
        return self._loss_name
