"""Every loss on a target-free crop with a false positive, by hand.

One 2x2 crop, target all background, logits [[0, BIG], [-BIG, -BIG]]:
probabilities p = [[0.5, 1], [0, 0]] (sigmoid(-50) ~ 2e-22 counts 0), so
P = sum(p) = 1.5 and mean(p) = 0.375. The gradient is read at the logit-0
pixel (top-left), where dp/dlogit = p (1 - p) = 0.25; the saturated pixels
pass none. docs/empty_crops.md tabulates these results.
"""
import math

import pytest
import torch

from serankdet.models.losses import (SigmoidBCELoss, SLSIoULoss,
                                     SoftDiceLoss, SoftIoULoss)
from serankdet.models.losses.utils import empty_target_penalty

BIG = 50.0
LOGITS = [[[[0.0, BIG], [-BIG, -BIG]]]]


def value_and_probe_grad(loss_fn, logits=LOGITS, target=None):
    """The loss and its gradient at logit [0, 0, 0, 0]."""
    logits = torch.tensor(logits, requires_grad=True)
    if target is None:
        target = torch.zeros_like(logits)
    loss = loss_fn(logits, torch.as_tensor(target))
    loss.backward()
    return loss.item(), logits.grad[0, 0, 0, 0].item()


@pytest.mark.parametrize('loss_fn', [
    SoftIoULoss(reduction='batch'), SoftIoULoss(reduction='sample'),
    SoftDiceLoss()
])
def test_smoothed_region_losses_saturate_on_an_empty_crop(loss_fn):
    # score = (0 + 1) / (P + 0 + 1) = 0.4 -> L = 0.6 = P / (P + 1);
    # dL/dp = 1 / (P + 1)^2 = 0.16 per pixel, x 0.25 at the probe
    loss, grad = value_and_probe_grad(loss_fn)
    assert loss == pytest.approx(0.6)
    assert grad == pytest.approx(0.04)


@pytest.mark.parametrize('loss_fn', [
    SoftIoULoss(smooth=0.0), SoftDiceLoss(smooth=0.0)
])
def test_unsmoothed_region_losses_are_blind_to_an_empty_crop(loss_fn):
    # score = 0 / P = 0 whatever the prediction: L = 1, no gradient
    assert value_and_probe_grad(loss_fn) == (pytest.approx(1.0), 0.0)


def test_bce_charges_every_false_positive_pixel():
    # mean of -log(1 - p) = (log 2 + 50 + 0 + 0) / 4; dL/dlogit = p / 4
    loss, grad = value_and_probe_grad(SigmoidBCELoss())
    assert loss == pytest.approx((math.log(2) + BIG) / 4)
    assert grad == pytest.approx(0.125)


def test_sls_iou_term_is_blind_and_location_term_ignores_top_left():
    # IoU = 0 / P = 0, so alpha * IoU = 0 and the first term is 1 with no
    # gradient. Location: cols = rows = [0, 0.5]; centre of p
    # c_x = (1 * 0.5) / 4 = 0.125, c_y = 0 -> angle 0, length
    # sqrt(0.125^2 + 1e-8); of the empty target angle atan(0) = 0, length
    # sqrt(1e-8) = 1e-4: L_loc = 1 - 1e-4 / 0.125 = 0.9992. The top-left
    # pixel has x = y = 0: it moves neither centre, no gradient.
    sls = SLSIoULoss(warm_up_epochs=-1)
    loss, grad = value_and_probe_grad(sls)
    assert loss == pytest.approx(1 + 1 - 1e-4 / 0.125, abs=1e-6)
    assert grad == 0.0
    # in the warm-up (plain soft IoU without smoothing): 1, blind
    warm = SLSIoULoss(warm_up_epochs=5)
    warm.set_epoch(0)
    assert value_and_probe_grad(warm) == (pytest.approx(1.0), 0.0)


@pytest.mark.parametrize('loss_fn,base_loss,base_grad', [
    (SoftIoULoss(empty_weight=1.0), 0.6, 0.04),
    (SoftIoULoss(smooth=0.0, empty_weight=1.0), 1.0, 0.0),
    (SoftDiceLoss(empty_weight=1.0), 0.6, 0.04),
    (SLSIoULoss(warm_up_epochs=-1, empty_weight=1.0), 2 - 1e-4 / 0.125, 0.0),
])
def test_empty_weight_charges_the_mean_probability(loss_fn, base_loss,
                                                   base_grad):
    # + 1 * mean(p) = 0.375; d mean(p) / dp = 1/4, x 0.25 at the probe
    loss, grad = value_and_probe_grad(loss_fn)
    assert loss == pytest.approx(base_loss + 0.375, abs=1e-6)
    assert grad == pytest.approx(base_grad + 0.0625)


def test_batch_soft_iou_sees_an_empty_crop_beside_a_target_crop():
    # sample 0: the empty crop above; sample 1: target [[1, 1], [0, 0]]
    # predicted exactly. Batch sums: I = 2, P = 3.5, T = 2, union
    # 3.5 + 2 - 2 + 1 = 4.5: L = 1 - 3 / 4.5 = 1/3, dL/dp = 3 / 4.5^2 at a
    # background pixel -> 0.25 * 3 / 20.25 = 1/27 at the probe.
    logits = LOGITS + [[[[BIG, BIG], [-BIG, -BIG]]]]
    target = [[[[0.0, 0.0], [0.0, 0.0]]], [[[1.0, 1.0], [0.0, 0.0]]]]
    loss, grad = value_and_probe_grad(SoftIoULoss(), logits, target)
    assert loss == pytest.approx(1 / 3)
    assert grad == pytest.approx(1 / 27)
    # per sample: (0.6 + 0) / 2, gradient 0.04 / 2
    loss, grad = value_and_probe_grad(
        SoftIoULoss(reduction='sample'), logits, target)
    assert loss == pytest.approx(0.3)
    assert grad == pytest.approx(0.02)
    # the penalty counts only the empty sample, averaged over the batch of 2
    probs = torch.sigmoid(torch.tensor(logits))
    assert empty_target_penalty(probs, torch.tensor(target)).item() == \
        pytest.approx(0.375 / 2)


def test_negative_empty_weight_is_refused():
    for loss in (SoftIoULoss, SoftDiceLoss, SLSIoULoss):
        with pytest.raises(ValueError, match='empty_weight must be >= 0'):
            loss(empty_weight=-1.0)
