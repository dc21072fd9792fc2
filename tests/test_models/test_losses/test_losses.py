"""Losses against hand-computed values."""
import pytest
import torch

from serankdet.models.losses import SigmoidBCELoss, SoftDiceLoss, SoftIoULoss

# logits 0 -> p = 0.5; a large logit -> p = 1
BIG = 50.0


def test_soft_iou_batch_matches_hand_computation():
    logits = torch.tensor([[[[0.0, BIG], [-BIG, -BIG]]],
                           [[[BIG, BIG], [-BIG, -BIG]]]])
    target = torch.tensor([[[[1.0, 1.0], [0.0, 0.0]]],
                           [[[0.0, 0.0], [0.0, 0.0]]]])
    # batch sums: p*t = 0.5 + 1 = 1.5, p = 1.5 + 2 = 3.5, t = 2
    # L = 1 - (1.5 + 1) / (3.5 + 2 - 1.5 + 1) = 1 - 2.5 / 5 = 0.5
    assert SoftIoULoss()(logits, target).item() == pytest.approx(0.5)
    # per sample: s0: 1 - 2.5/(1.5+2-1.5+1)=1-2.5/3 ; s1: 1 - 1/(2+0-0+1)
    expected = ((1 - 2.5 / 3) + (1 - 1 / 3)) / 2
    assert SoftIoULoss(reduction='sample')(logits, target).item() == \
        pytest.approx(expected)


def test_soft_dice_is_zero_for_perfect_and_high_for_inverted():
    target = torch.zeros(1, 1, 4, 4)
    target[..., 1:3, 1:3] = 1
    perfect = (target * 2 - 1) * BIG
    dice = SoftDiceLoss(smooth=0.0)
    assert dice(perfect, target).item() == pytest.approx(0.0, abs=1e-6)
    assert dice(-perfect, target).item() == pytest.approx(1.0, abs=1e-6)


def test_bce_and_weights():
    logits = torch.zeros(1, 1, 2, 2)
    target = torch.tensor([[[[1.0, 0.0], [0.0, 0.0]]]])
    # every pixel: -log(0.5); pos_weight 3 on the one target pixel
    log2 = torch.log(torch.tensor(2.0)).item()
    assert SigmoidBCELoss()(logits, target).item() == pytest.approx(log2)
    assert SigmoidBCELoss(pos_weight=3.0, loss_weight=2.0)(
        logits, target).item() == pytest.approx(2 * log2 * (3 + 3) / 4)


def test_bce_through_probability_saturates_like_the_official_loss():
    # A background pixel (target 0) with logit 20: float32 sigmoid(20) rounds
    # to 1, so BCELoss(sigmoid) clamps -log(1 - 1) at 100 and passes no
    # gradient; BCE with logits gives log(1 + e^20) = 20 + 2.06e-9 and the
    # gradient sigmoid(20) = 1 - 2.06e-9. A pixel at logit 0 (second one)
    # costs log 2 with gradient 0.5 either way. Means over the 2 pixels.
    target = torch.zeros(1, 1, 1, 2)
    log2 = torch.log(torch.tensor(2.0)).item()
    losses = {}
    for through_probability in (False, True):
        logits = torch.tensor([[[[20.0, 0.0]]]], requires_grad=True)
        loss = SigmoidBCELoss(through_probability=through_probability)(
            logits, target)
        loss.backward()
        losses[through_probability] = (loss.item(),
                                       logits.grad.flatten().tolist())
    assert losses[False][0] == pytest.approx((20 + log2) / 2)
    assert losses[False][1] == pytest.approx([0.5, 0.25])
    assert losses[True][0] == pytest.approx((100 + log2) / 2)
    assert losses[True][1] == pytest.approx([0.0, 0.25])
    # away from saturation the two modes agree
    logits = torch.tensor([[[[3.0, -2.0]]]])
    target = torch.tensor([[[[1.0, 0.0]]]])
    assert SigmoidBCELoss(through_probability=True)(logits, target).item() \
        == pytest.approx(SigmoidBCELoss()(logits, target).item(), rel=1e-6)


def test_bce_through_probability_refuses_pos_weight():
    with pytest.raises(ValueError, match='pos_weight is not supported with '
                       'through_probability=True'):
        SigmoidBCELoss(pos_weight=3.0, through_probability=True)


def test_bad_reduction_is_named():
    with pytest.raises(ValueError, match="SoftIoULoss reduction.*'pixel'"):
        SoftIoULoss(reduction='pixel')
