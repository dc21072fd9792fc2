"""Soft-IoU loss, as trained by SeRankDet and DATransNet."""
import torch
import torch.nn as nn

from serankdet.registry import MODELS
from .utils import region_sums


@MODELS.register_module()
class SoftIoULoss(nn.Module):
    """1 - soft IoU of sigmoid(logits) and a binary target.

    ``L = 1 - (sum(p*t) + s) / (sum(p) + sum(t) - sum(p*t) + s)``. With
    ``reduction='batch'`` the sums run over the whole (B, 1, H, W) batch (the
    references' definition: one IoU per batch); with ``'sample'`` they run
    per image and the losses are averaged.

    Args:
        reduction (str): 'batch' or 'sample'.
        smooth (float): the smoothing term s.
        loss_weight (float): multiplier of the loss.
        loss_name (str): key in the loss dict (must start with ``loss_``).
    """

    def __init__(self, reduction='batch', smooth=1.0, loss_weight=1.0,
                 loss_name='loss_softiou'):
        super().__init__()
        if reduction not in ('batch', 'sample'):
            raise ValueError(
                f"SoftIoULoss reduction must be 'batch' or 'sample', got "
                f'{reduction!r}')
        self.reduction = reduction
        self.smooth = smooth
        self.loss_weight = loss_weight
        self._loss_name = loss_name

    def forward(self, logits, target):
        probs = torch.sigmoid(logits)
        inter, psum, tsum = region_sums(probs, target.to(probs),
                                  self.reduction == 'sample')
        iou = (inter + self.smooth) / (psum + tsum - inter + self.smooth)
        return self.loss_weight * (1 - iou).mean()

    @property
    def loss_name(self):
        return self._loss_name
