"""MSHNet's Scale and Location Sensitive (SLS) loss (Liu et al., CVPR 2024)."""
import math

import torch
import torch.nn as nn
from torch import Tensor

from serankdet.registry import MODELS
from ..warm_up import EpochWarmUp
from .utils import empty_target_penalty


def location_loss(probs: Tensor, target: Tensor, eps: float = 1e-8) -> Tensor:
    """MSHNet's location-sensitive penalty, averaged over the batch.

    For each image, the "centre" of a map m (C, H, W) is
    ``c = (mean(x * m), mean(y * m))`` with ``x = col / W``, ``y = row / H``
    and the mean over all C*H*W pixels (the reference's definition: a
    mass-weighted centre times the mean of m, not a normalised centroid).
    With ``c_p`` of the probabilities and ``c_t`` of the target, in polar
    form (angle ``atan(cy / (cx + eps))``, length
    ``sqrt(cx^2 + cy^2 + eps)``)::

        L = 1 - min(len_p, len_t) / (max(len_p, len_t) + eps)
              + 4 / pi^2 * (angle_p - angle_t)^2

    Args:
        probs (Tensor): (B, C, H, W) probabilities.
        target (Tensor): (B, C, H, W) target in [0, 1].
        eps (float): the reference's smoothing constant.

    Returns:
        Tensor: scalar, the mean of L over the batch.
    """
    height, width = probs.shape[-2:]
    cols = torch.arange(width, dtype=probs.dtype, device=probs.device) / width
    rows = torch.arange(height, dtype=probs.dtype,
                        device=probs.device) / height
    dims = tuple(range(1, probs.dim()))

    def polar(maps):
        centre_x = (maps * cols).mean(dims)
        centre_y = (maps * rows[:, None]).mean(dims)
        angle = torch.atan(centre_y / (centre_x + eps))
        length = torch.sqrt(centre_x**2 + centre_y**2 + eps)
        return angle, length

    pred_angle, pred_length = polar(probs)
    target_angle, target_length = polar(target)
    length_ratio = torch.minimum(pred_length, target_length) / (
        torch.maximum(pred_length, target_length) + eps)
    angle_term = 4 / math.pi**2 * (pred_angle - target_angle)**2
    return (1 - length_ratio + angle_term).mean()


@MODELS.register_module()
class SLSIoULoss(EpochWarmUp, nn.Module):
    """SLS loss: scale-weighted soft IoU plus a location penalty.

    Per image, with ``p = sigmoid(logits)``, sums over (C, H, W)
    ``P = sum(p)``, ``T = sum(t)``, ``I = sum(p * t)`` and no smoothing::

        IoU   = I / (P + T - I)
        d     = ((P - T) / 2)^2
        alpha = (min(P, T) + d) / (max(P, T) + d)
        L     = 1 - mean_b(alpha * IoU) + location_loss(p, t)

    (:func:`location_loss`; without it when ``with_location`` is False).
    On a target-free image ``IoU = 0`` whatever the prediction, so the
    first term is a constant 1 there; only the location penalty sees false
    positives, through their coordinates (none at the top-left pixel).
    ``empty_weight`` > 0 adds ``empty_weight * empty_target_penalty(p, t)``
    (:func:`~serankdet.models.losses.utils.empty_target_penalty`), in the
    warm-up too.
    During the warm-up epochs the loss is the plain soft IoU loss
    ``1 - mean_b(IoU)``, as the reference trains. :meth:`set_epoch`
    (:class:`EpochWarmUp`, called by
    :class:`~serankdet.engine.hooks.SetEpochHook` before every training
    epoch, 0-based) switches: epochs ``0 .. warm_up_epochs`` (inclusive) are
    warm-up, as the reference's ``epoch > warm_epoch`` test. Outside a
    training run (no epoch set) the full SLS loss is computed.

    Args:
        warm_up_epochs (int): the reference's ``warm_epoch`` (5: six epochs
            of plain soft IoU); -1 for none.
        with_location (bool): add the location penalty (the reference's
            ``with_shape``, True in its training).
        loss_weight (float): multiplier of the loss.
        loss_name (str): key in the loss dict.
        empty_weight (float): weight of the target-free-sample penalty
            (0: none, the reference's loss).

    Shapes: logits and target (B, C, H, W) -> scalar.
    """

    def __init__(self,
                 warm_up_epochs: int = 5,
                 with_location: bool = True,
                 loss_weight: float = 1.0,
                 loss_name: str = 'loss_sls',
                 empty_weight: float = 0.0):
        super().__init__()
        if empty_weight < 0:
            raise ValueError(
                f'SLSIoULoss empty_weight must be >= 0, got {empty_weight}')
        self.warm_up_epochs = warm_up_epochs
        self.with_location = with_location
        self.loss_weight = loss_weight
        self.empty_weight = empty_weight
        self._loss_name = loss_name

    def forward(self, logits: Tensor, target: Tensor) -> Tensor:
        probs = torch.sigmoid(logits)
        target = target.to(probs)
        dims = tuple(range(1, probs.dim()))
        inter = (probs * target).sum(dims)
        pred_sum = probs.sum(dims)
        target_sum = target.sum(dims)
        iou = inter / (pred_sum + target_sum - inter)
        if self.warming_up:
            loss = 1 - iou.mean()
        else:
            dist = ((pred_sum - target_sum) / 2)**2
            alpha = (torch.minimum(pred_sum, target_sum) + dist) / (
                torch.maximum(pred_sum, target_sum) + dist)
            loss = 1 - (alpha * iou).mean()
            if self.with_location:
                loss = loss + location_loss(probs, target)
        if self.empty_weight:
            loss = loss + self.empty_weight * empty_target_penalty(
                probs, target)
        return self.loss_weight * loss

    @property
    def loss_name(self) -> str:
        return self._loss_name
