"""Soft Dice loss for one output channel."""
import torch
import torch.nn as nn

from serankdet.registry import MODELS
from .utils import region_sums


@MODELS.register_module()
class SoftDiceLoss(nn.Module):
    """1 - soft Dice of sigmoid(logits) and a binary (B, 1, H, W) target.

    ``L = 1 - (2*sum(p*t) + s) / (sum(p) + sum(t) + s)``, per image
    (``reduction='sample'``, averaged) or over the batch. Written for one
    output channel (mmseg's DiceLoss scores the background channel there).
    """

    def __init__(self, reduction='sample', smooth=1.0, loss_weight=1.0,
                 loss_name='loss_dice'):
        super().__init__()
        if reduction not in ('batch', 'sample'):
            raise ValueError(
                f"SoftDiceLoss reduction must be 'batch' or 'sample', got "
                f'{reduction!r}')
        self.reduction = reduction
        self.smooth = smooth
        self.loss_weight = loss_weight
        self._loss_name = loss_name

    def forward(self, logits, target):
        probs = torch.sigmoid(logits)
        inter, psum, tsum = region_sums(probs, target.to(probs),
                                  self.reduction == 'sample')
        dice = (2 * inter + self.smooth) / (psum + tsum + self.smooth)
        return self.loss_weight * (1 - dice).mean()

    @property
    def loss_name(self):
        return self._loss_name
