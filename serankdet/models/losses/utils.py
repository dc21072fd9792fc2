"""The base of the region losses (soft IoU, soft Dice)."""
import torch
import torch.nn as nn


class RegionLoss(nn.Module):
    """``1 - score(sum(p*t), sum(p), sum(t))`` of sigmoid(logits) and target.

    With ``reduction='batch'`` the sums run over the whole (B, 1, H, W)
    batch (one score per batch, the references' definition); with
    ``'sample'`` they run per image and the losses are averaged. Subclasses
    define :meth:`score`.

    Args:
        reduction (str): 'batch' or 'sample'.
        smooth (float): smoothing term of the score.
        loss_weight (float): multiplier of the loss.
        loss_name (str): key in the loss dict (must start with ``loss_``).
    """

    def __init__(self, reduction, smooth, loss_weight, loss_name):
        super().__init__()
        if reduction not in ('batch', 'sample'):
            raise ValueError(
                f"{type(self).__name__} reduction must be 'batch' or "
                f"'sample', got {reduction!r}")
        self.reduction = reduction
        self.smooth = smooth
        self.loss_weight = loss_weight
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
        return self.loss_weight * (1 - score).mean()

    @property
    def loss_name(self):
        return self._loss_name
