"""The decision rule (threshold, area bounds, hysteresis) on hand-made
maps, as the metric applies it at its threshold and along its curves."""
import numpy as np
import pytest
import torch

from serankdet.evaluation import DecisionRule, IRSTDMetric, image_statistics

pytestmark = pytest.mark.smoke


def _probabilities():
    """(8, 10) map of four components above 0.5 and their expected masks.

    A: 1 px, p 0.9; B: 3 px at p 0.6 whose middle pixel (b) is 0.85;
    C: 2x3 px at p 0.95; D: 2 px at p 0.6; one pixel at exactly 0.5
    (not a target: the threshold is strict).
    """
    probs = np.full((8, 10), 0.01)
    parts = {}
    probs[0, 0] = 0.9
    parts['A'] = [(0, 0)]
    probs[2, 2:5] = 0.6
    probs[2, 3] = 0.85
    parts['B'] = [(2, 2), (2, 3), (2, 4)]
    parts['b'] = [(2, 3)]  # what stays of B above 0.7
    probs[5:7, 6:9] = 0.95
    parts['C'] = [(r, c) for r in (5, 6) for c in (6, 7, 8)]
    probs[7, 0:2] = 0.6
    parts['D'] = [(7, 0), (7, 1)]
    probs[0, 9] = 0.5
    return probs, parts


def _expected(parts, names):
    mask = np.zeros((8, 10), dtype=bool)
    for name in names:
        for r, c in parts[name]:
            mask[r, c] = True
    return mask


@pytest.mark.parametrize('rule, kept', [
    (DecisionRule(), 'ABCD'),
    (DecisionRule(min_area=2), 'BCD'),
    (DecisionRule(max_area=3), 'ABD'),
    (DecisionRule(min_area=2, max_area=4), 'BD'),
    (DecisionRule(seed_threshold=0.8), 'ABC'),
    (DecisionRule(min_area=2, max_area=4, seed_threshold=0.8), 'B'),
    (DecisionRule(0.7), 'AbC'),
    # the seed has no effect at or below the threshold
    (DecisionRule(0.7, seed_threshold=0.6), 'AbC'),
    (DecisionRule(0.7, min_area=2), 'C'),
])
def test_rule_on_hand_made_map(rule, kept):
    probs, parts = _probabilities()
    expected = _expected(parts, kept)
    np.testing.assert_array_equal(rule.apply(probs, from_logits=False),
                                  expected)
    logits = np.log(probs) - np.log1p(-probs)
    np.testing.assert_array_equal(rule.apply(logits[None]), expected)


@pytest.mark.parametrize('kwargs, message', [
    (dict(threshold=0.0), r'decode_head\.threshold is a probability'),
    (dict(threshold=True), r'decode_head\.threshold is a probability'),
    (dict(seed_threshold=1.0), r'decode_head\.seed_threshold is a prob'),
    (dict(min_area=-1), r'decode_head\.min_area is a pixel count'),
    (dict(min_area=1.5), r'decode_head\.min_area is a pixel count'),
    (dict(min_area=5, max_area=4), r'decode_head\.max_area .* >= min_area'),
    (dict(max_area=0), r'decode_head\.max_area'),
])
def test_rule_refuses_bad_values(kwargs, message):
    with pytest.raises(ValueError, match=message):
        DecisionRule(**kwargs)


def _scene():
    """A 2x2 target at p 0.6 (peak 0.6) and a 1 px clutter at p 0.9."""
    probs = np.full((16, 16), 0.01)
    gt = np.zeros((16, 16), dtype=np.int64)
    probs[3:5, 3:5] = 0.6
    gt[3:5, 3:5] = 1
    probs[12, 12] = 0.9
    return np.log(probs) - np.log1p(-probs), gt


def test_image_statistics_apply_the_rule_at_every_threshold():
    logits, gt = _scene()
    plain = image_statistics(logits, gt, curve_thresholds=[0.3, 0.7])
    assert (plain['n_matched'], plain['fa_pixels'], plain['fa_objects']) == (
        1, 1, 1)
    # min_area 2 drops the clutter, at 0.5 and along the curve
    small = image_statistics(logits, gt, DecisionRule(min_area=2),
                             curve_thresholds=[0.3, 0.7])
    assert (small['n_matched'], small['fa_pixels'], small['tp']) == (1, 0, 4)
    # columns tp, fp, fn, n_pred, n_matched, fa_pixels, fa_objects
    np.testing.assert_array_equal(
        small['curve'], [[4, 0, 0, 1, 1, 0, 0], [0, 0, 4, 0, 0, 0, 0]])
    # a seed at 0.8 keeps the clutter (peak 0.9) and drops the target
    seeded = image_statistics(logits, gt, DecisionRule(seed_threshold=0.8),
                              curve_thresholds=[0.3])
    assert (seeded['n_matched'], seeded['fa_pixels'], seeded['tp']) == (
        0, 1, 0)
    np.testing.assert_array_equal(seeded['curve'], [[0, 1, 4, 1, 0, 1, 1]])


def _metric_sample(logits, gt):
    return dict(seg_logits=dict(data=torch.as_tensor(logits)[None].float()),
                gt_sem_seg=dict(data=torch.as_tensor(gt)[None]),
                img_path='scene.png')


@pytest.mark.parametrize('rule, pd, fa_pixels', [
    (None, 1.0, 1), (dict(min_area=2), 1.0, 0),
    (dict(max_area=1), 0.0, 1), (dict(seed_threshold=0.8), 0.0, 1)])
def test_metric_applies_the_rule(rule, pd, fa_pixels):
    logits, gt = _scene()
    metric = IRSTDMetric(decision_rule=rule)
    metric.process(None, [_metric_sample(logits, gt)])
    result = metric.evaluate(1)
    assert result['irstd/Pd'] == pd
    assert result['irstd/Fa'] == pytest.approx(fa_pixels / 256 * 1e6)


def test_metric_reports_pd_at_fixed_false_alarm_rates():
    """Two frames of 250 x 250 px (125,000 px: one pixel is Fa 8 x 1e-6):
    targets at p 0.9 and 0.6, a 1 px clutter at p 0.7. At 0.5 Pd is 1 with
    one false pixel (Fa 8, 0.5 objects per frame); only thresholds of 0.7
    and up remove it, keeping one target: Pd 0.5 at Fa <= 1e-6 and at 0.1
    objects per frame, Pd 1 at Fa <= 1e-5."""
    samples = []
    for target_p, clutter in ((0.9, True), (0.6, False)):
        probs = np.full((250, 250), 0.01)
        gt = np.zeros((250, 250), dtype=np.int64)
        probs[10:12, 10:12] = target_p
        gt[10:12, 10:12] = 1
        if clutter:
            probs[80, 80] = 0.7
        samples.append(_metric_sample(np.log(probs) - np.log1p(-probs), gt))
    metric = IRSTDMetric(curve_thresholds=9)
    metric.process(None, samples)
    result = metric.evaluate(2)
    assert result['irstd/Pd'] == 1.0
    assert result['irstd/Fa'] == pytest.approx(8.0)
    assert result['irstd/Pd@Fa=1e-6'] == 0.5
    assert result['irstd/Pd@Fa=1e-5'] == 1.0
    assert result['irstd/Pd@fa_objects_per_image=0.1'] == 0.5
    assert 'irstd/Pd@Fa=1e-6' not in _without_curves(samples)


def _without_curves(samples):
    metric = IRSTDMetric()
    metric.process(None, samples)
    return metric.evaluate(len(samples))
