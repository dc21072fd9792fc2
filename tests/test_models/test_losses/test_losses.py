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


def test_bad_reduction_is_named():
    with pytest.raises(ValueError, match="SoftIoULoss reduction.*'pixel'"):
        SoftIoULoss(reduction='pixel')
