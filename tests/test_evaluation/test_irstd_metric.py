"""IRSTDMetric: hand-built cases and the golden reference values."""
import json
import os.path as osp

import numpy as np
import pytest
import torch

from serankdet.evaluation import IRSTDMetric, dump_curves
from serankdet.registry import METRICS


pytestmark = pytest.mark.smoke


def _sample(logits, mask):
    """A packed data sample as the evaluator passes it (``to_dict()``)."""
    return dict(
        seg_logits=dict(
            data=torch.as_tensor(logits, dtype=torch.float32)[None]),
        gt_sem_seg=dict(data=torch.as_tensor(mask, dtype=torch.int64)[None]),
        img_path='case.png')


def _evaluate(metric, samples, batch_size=2):
    for i in range(0, len(samples), batch_size):
        metric.process(None, samples[i:i + batch_size])
    return metric.evaluate(len(samples))


def _target_case():
    """16x16: target 2x2 (rows 4-5, cols 4-5) predicted exactly."""
    mask = np.zeros((16, 16), np.int64)
    mask[4:6, 4:6] = 1
    return np.where(mask > 0, 4.0, -4.0), mask


def test_registry_and_prefix():
    metric = METRICS.build(dict(type='IRSTDMetric'))
    assert isinstance(metric, IRSTDMetric)
    assert metric.prefix == 'irstd'
    assert (metric.matching, metric.niou_empty) == ('hungarian', 'skip')
    legacy = IRSTDMetric(legacy=True)
    assert (legacy.matching, legacy.niou_empty) == ('greedy', 'zero')
    # Explicit switches win over legacy=True.
    mixed = IRSTDMetric(legacy=True, matching='hungarian')
    assert (mixed.matching, mixed.niou_empty) == ('hungarian', 'zero')


def test_empty_images_nIoU_and_negative_counts():
    # img0: target predicted exactly (IoU 1). img1: no target, no prediction.
    # img2: no target, one 1-px false alarm (IoU 0, Fa 1 px).
    # default nIoU = mean over target images = 1; legacy = (1+0+0)/3.
    # Fa = 1 / (3*256) * 1e6 = 1302.083; negative-image FPR = 1/2.
    logits0, mask0 = _target_case()
    empty = np.zeros((16, 16), np.int64)
    logits2 = np.full((16, 16), -4.0)
    logits2[10, 10] = 2.0
    samples = [_sample(logits0, mask0), _sample(np.full((16, 16), -4.0),
                                                empty),
               _sample(logits2, empty)]
    res = _evaluate(IRSTDMetric(), samples)
    assert res['irstd/nIoU'] == pytest.approx(1.0)
    assert res['irstd/IoU'] == pytest.approx(4 / 5)
    assert res['irstd/Pd'] == pytest.approx(1.0)
    assert res['irstd/Fa'] == pytest.approx(1e6 / 768)
    assert res['irstd/fa_objects_per_image'] == pytest.approx(1 / 3)
    assert (res['irstd/num_images'], res['irstd/num_target_images'],
            res['irstd/num_targets'], res['irstd/num_negative_images']) == (
                3, 1, 1, 2)
    assert res['irstd/negative_image_fpr'] == pytest.approx(0.5)
    legacy = _evaluate(IRSTDMetric(legacy=True), samples)
    assert legacy['irstd/nIoU'] == pytest.approx(1 / 3)
    assert _evaluate(IRSTDMetric(niou_empty='zero'),
                     samples)['irstd/nIoU'] == pytest.approx(1 / 3)


def test_threshold_applied_in_probability_space():
    # Target pixels have logit 0.1 (p = 0.525): a hit at threshold 0.5 and
    # nothing at threshold 0.6.
    mask = np.zeros((8, 8), np.int64)
    mask[3, 3] = 1
    logits = np.where(mask > 0, 0.1, -3.0)
    hit = _evaluate(IRSTDMetric(decision_rule=dict(threshold=0.5)), [_sample(logits, mask)])
    assert (hit['irstd/IoU'], hit['irstd/Pd']) == (1.0, 1.0)
    miss = _evaluate(IRSTDMetric(decision_rule=dict(threshold=0.6)), [_sample(logits, mask)])
    assert (miss['irstd/IoU'], miss['irstd/Pd']) == (0.0, 0.0)


def test_greedy_vs_hungarian_in_metric():
    # The constructed case of test_functional: greedy matches 1 of 2 close
    # targets (Pd 0.5, Fa 1 px of 144), hungarian both (Pd 1, Fa 0).
    mask = np.zeros((12, 12), np.int64)
    mask[5, 5] = mask[5, 7] = 1
    logits = np.full((12, 12), -5.0)
    logits[6, 6] = logits[7, 3] = 5.0
    samples = [_sample(logits, mask)]
    greedy = _evaluate(IRSTDMetric(matching='greedy'), samples)
    assert greedy['irstd/Pd'] == pytest.approx(0.5)
    assert greedy['irstd/Fa'] == pytest.approx(1e6 / 144)
    best = _evaluate(IRSTDMetric(), samples)
    assert (best['irstd/Pd'], best['irstd/Fa']) == (1.0, 0.0)


def test_legacy_resize():
    # 8x8 -> (16, 12): constant logits inside a 4x4 target (rows/cols 2-5)
    # stay exact where bilinear weights sum to 1; the nearest-exact mask is
    # rows 4-11 x cols 3-8 (48 px) and the Fa denominator is 16*12.
    mask = np.zeros((8, 8), np.int64)
    mask[2:6, 2:6] = 1
    logits = np.where(mask > 0, 3.0, -3.0)
    metric = IRSTDMetric(legacy_resize=(16, 12))
    logits_r, mask_r = metric._get_arrays(_sample(logits, mask))
    assert logits_r.shape == mask_r.shape == (16, 12)
    expected = np.zeros((16, 12), np.int64)
    expected[4:12, 3:9] = 1
    np.testing.assert_array_equal(mask_r, expected)
    # Bilinear of a symmetric step: sign changes exactly at the edges.
    np.testing.assert_array_equal(logits_r > 0, expected > 0)
    res = _evaluate(metric, [_sample(logits, mask)])
    assert res['irstd/IoU'] == 1.0
    assert IRSTDMetric(legacy_resize=32).legacy_resize == (32, 32)


def test_no_state_leak_between_evaluations():
    logits0, mask0 = _target_case()
    logits1 = np.full((16, 16), -4.0)
    logits1[0:2, 10:13] = 4.0  # 6-px false alarm
    samples = [_sample(logits0, mask0), _sample(logits1, mask0)]
    metric = IRSTDMetric()
    first = _evaluate(metric, samples)
    assert metric.results == []
    second = _evaluate(metric, samples)
    assert first == second
    assert first['irstd/num_images'] == 2
    # Pd = 1 of 2 targets; Fa = 6 / 512 px.
    assert first['irstd/Pd'] == pytest.approx(0.5)
    assert first['irstd/Fa'] == pytest.approx(6e6 / 512)
    # A later evaluation of one image reflects that image only.
    only = _evaluate(metric, samples[:1])
    assert (only['irstd/num_images'], only['irstd/Pd'],
            only['irstd/Fa']) == (1, 1.0, 0.0)


def test_bad_inputs_raise_clear_errors():
    logits, mask = _target_case()
    metric = IRSTDMetric()
    with pytest.raises(KeyError, match='seg_logits'):
        metric.process(None, [dict(gt_sem_seg=dict(data=torch.zeros(1, 4,
                                                                    4)))])
    with pytest.raises(ValueError, match='differ in size'):
        metric.process(None, [_sample(logits, mask[:8])])
    with pytest.raises(ValueError, match=r'\(1, H, W\)'):
        metric.process(None, [
            dict(seg_logits=dict(data=torch.zeros(2, 16, 16)),
                 gt_sem_seg=dict(data=torch.zeros(1, 16, 16)))
        ])
    with pytest.raises(ValueError, match='threshold'):
        IRSTDMetric(decision_rule=dict(threshold=1.0))
    with pytest.raises(ValueError, match=r'no threshold: the decision rule '
                       r"is the model's, set model\.decode_head\.threshold"):
        IRSTDMetric(threshold=0.4)
    with pytest.raises(ValueError, match='niou_empty'):
        IRSTDMetric(niou_empty='one')
    with pytest.raises(ValueError, match='matching'):
        IRSTDMetric(matching='nearest')
    with pytest.raises(ValueError, match='curve_file needs curve_thresholds'):
        IRSTDMetric(curve_file='x.json')
    with pytest.raises(KeyError, match='curve_thresholds'):
        dump_curves({'irstd/IoU': 1.0}, 'x.json')


@pytest.fixture(scope='module')
def golden_metrics(golden_dir):
    path = osp.join(golden_dir, 'serankdet_modules.pt')
    if not osp.exists(path):
        pytest.skip(f'{path} is not available')
    return torch.load(path, weights_only=True, map_location='cpu')['metrics']


def _golden_samples(ref):
    # 4 images of 64x64, fed in the reference's 2 batches (0-1, 2-3).
    return [
        _sample(ref['logits'][i, 0], ref['masks'][i, 0].long())
        for i in range(ref['img_num'])
    ]


def test_golden_reference_values(golden_metrics):
    ref = golden_metrics
    samples = _golden_samples(ref)
    # At p > 0.5: TP 81, FP 18, FN 43 (124 GT px; reference pixAcc 81/124).
    # IoU = 81/142, F1 = 162/223 (the reference adds 1e-3/1e-5 epsilons).
    # 5 targets, 4 detected. Unmatched predicted pixels: 15 of 4*64*64; the
    # reference's area de-dup drops a 9-px blob -> 6 px.
    legacy = _evaluate(IRSTDMetric(legacy=True, fa_area_dedup=True), samples)
    assert legacy['irstd/IoU'] == pytest.approx(ref['IoU'], abs=1e-12)
    assert legacy['irstd/IoU'] == pytest.approx(81 / 142)
    assert legacy['irstd/nIoU'] == pytest.approx(ref['nIoU'], abs=1e-12)
    assert legacy['irstd/F1'] == pytest.approx(ref['F1'], abs=2e-5)
    assert legacy['irstd/Pd'] == pytest.approx(float(ref['PD'][0]))
    assert legacy['irstd/Fa'] == pytest.approx(float(ref['FA'][0]) * 1e6)
    assert legacy['irstd/Fa'] == pytest.approx(6e6 / 16384)
    default = _evaluate(IRSTDMetric(), samples)
    assert default['irstd/Fa'] == pytest.approx(
        ref['FA_bin0_without_area_dedup_bug'] * 1e6)
    assert default['irstd/Fa'] == pytest.approx(15e6 / 16384)
    assert default['irstd/Pd'] == pytest.approx(0.8)
    # Default nIoU skips the two empty images: mean(0.3947, 0.6471).
    per_image = ref['per_image_IoU'].numpy()
    assert default['irstd/nIoU'] == pytest.approx(
        per_image[[0, 3]].mean(), abs=1e-12)
    assert default['irstd/num_negative_images'] == 2


def test_golden_roc_and_curve_file(golden_metrics, tmp_path):
    # Reference ROC: sigmoid > i/10, i = 0..10, recall = TP/(TP+FN+1e-3),
    # FPR = FP/(FP+TN+1e-3), precision = TP/(TP+FP+1e-3).
    ref = golden_metrics
    curve_file = str(tmp_path / 'sub' / 'curves.json')
    metric = IRSTDMetric(
        curve_thresholds=[i / 10 for i in range(11)], curve_file=curve_file)
    res = _evaluate(metric, _golden_samples(ref))
    curves = res['irstd/curves']
    np.testing.assert_allclose(curves['TPR'], ref['roc_tp_rates'], atol=1e-4)
    np.testing.assert_allclose(curves['recall'], ref['roc_recall'], atol=1e-4)
    np.testing.assert_allclose(curves['FPR'], ref['roc_fp_rates'], atol=1e-6)
    np.testing.assert_allclose(
        curves['precision'], ref['roc_precision'], atol=1e-4)
    # The operating point of the curve equals the main metrics.
    i = curves['threshold'].index(0.5)
    for key in ('IoU', 'Pd', 'Fa', 'F1', 'precision', 'recall'):
        assert curves[key][i] == pytest.approx(res[f'irstd/{key}'])
    # Pixel counts only shrink as the threshold grows (Pd and Fa need not:
    # blobs merge at low thresholds).
    for key in ('TPR', 'FPR', 'recall'):
        assert np.all(np.diff(curves[key]) <= 0), key
    with open(curve_file) as f:
        assert json.load(f) == curves
    dumped = dump_curves(res, str(tmp_path / 'again.json'))
    assert dumped is curves


def test_curves_monotone_on_graded_predictions():
    # Three isolated 1-px targets with probabilities 0.35, 0.65, 0.95 and two
    # 1-px clutters at 0.45 and 0.85 (all far apart). On the grid 0.1..0.9:
    # Pd = (#targets above t)/3 and Fa = (#clutters above t)/N px both
    # decrease monotonically.
    mask = np.zeros((32, 32), np.int64)
    logits = np.full((32, 32), -8.0)
    for (r, c), p in zip([(2, 2), (2, 20), (20, 2)], (0.35, 0.65, 0.95)):
        mask[r, c] = 1
        logits[r, c] = np.log(p / (1 - p))
    for (r, c), p in zip([(20, 20), (28, 10)], (0.45, 0.85)):
        logits[r, c] = np.log(p / (1 - p))
    res = _evaluate(IRSTDMetric(curve_thresholds=9), [_sample(logits, mask)])
    curves = res['irstd/curves']
    np.testing.assert_allclose(curves['threshold'], np.arange(1, 10) / 10)
    np.testing.assert_allclose(
        curves['Pd'], np.array([3, 3, 3, 2, 2, 2, 1, 1, 1]) / 3)
    np.testing.assert_allclose(
        curves['Fa'], np.array([2, 2, 2, 2, 1, 1, 1, 1, 0]) * 1e6 / 1024)
    np.testing.assert_allclose(curves['fa_objects_per_image'],
                               [2, 2, 2, 2, 1, 1, 1, 1, 0])


def test_through_mmengine_evaluator_with_seg_data_samples():
    # The runner path: SegDataSamples -> Evaluator (to_dict) -> metric; one
    # result per sample, so evaluate(size) drops sampler padding (3rd copy).
    from mmengine.evaluator import Evaluator
    from mmengine.structures import PixelData
    from mmseg.structures import SegDataSample
    logits, mask = _target_case()
    sample = SegDataSample(metainfo=dict(img_path='a.png'))
    sample.seg_logits = PixelData(
        data=torch.as_tensor(logits, dtype=torch.float32)[None])
    sample.gt_sem_seg = PixelData(data=torch.as_tensor(mask)[None])
    padded = [sample, sample, sample]
    evaluator = Evaluator(dict(type='IRSTDMetric'))
    evaluator.process(padded, dict(data_samples=padded))
    res = evaluator.evaluate(2)
    assert res['irstd/num_images'] == 2
    assert (res['irstd/IoU'], res['irstd/Pd']) == (1.0, 1.0)


@pytest.mark.parametrize('dtype', [torch.bfloat16, torch.float16])
def test_half_precision_logits_score_like_float32(dtype):
    # --amp gives bfloat16 (CPU) or float16 (GPU) logits; NumPy has no
    # bfloat16. Logits chosen exactly representable: same results.
    logits0, mask0 = _target_case()
    logits1 = np.full((16, 16), -3.0)
    logits1[10, 10:12] = 0.5  # a 2-px false alarm
    samples = [_sample(logits0, mask0), _sample(logits1, mask0)]
    half = [dict(s, seg_logits=dict(data=s['seg_logits']['data'].to(dtype)))
            for s in samples]
    assert half[0]['seg_logits']['data'].dtype == dtype
    for kwargs in (dict(), dict(legacy_resize=8), dict(curve_thresholds=5)):
        ref = _evaluate(IRSTDMetric(**kwargs), samples)
        got = _evaluate(IRSTDMetric(**kwargs), half)
        assert got == ref
    assert ref['irstd/Pd'] == pytest.approx(0.5)


def _nan_sample(path='data/test/images/frame_007.png'):
    logits, mask = _target_case()
    logits[2, 3] = np.nan
    sample = _sample(logits, mask)
    sample['img_path'] = path
    return sample


@pytest.mark.parametrize('dtype', [torch.float32, torch.bfloat16])
def test_nan_logits_are_an_error_naming_the_image(dtype):
    logits, mask = _target_case()
    good = _sample(logits, mask)
    bad = _nan_sample()
    bad['seg_logits']['data'] = bad['seg_logits']['data'].to(dtype)
    metric = IRSTDMetric()
    with pytest.raises(ValueError) as error:
        metric.process(None, [good, bad])
    message = str(error.value)
    assert 'data/test/images/frame_007.png' in message
    assert 'NaN' in message and '1 of 256 pixels' in message
    assert 'diverged' in message and 'checkpoint' in message
    # also with legacy_resize (checked before resizing)
    with pytest.raises(ValueError, match='frame_007.png.*NaN'):
        IRSTDMetric(legacy_resize=8).process(None, [bad])


def test_nan_logits_through_the_evaluator_name_the_image():
    from mmengine.evaluator import Evaluator
    from mmengine.structures import PixelData
    from mmseg.structures import SegDataSample
    logits, mask = _target_case()
    logits[:] = np.nan
    sample = SegDataSample(metainfo=dict(img_path='frames/b.png'))
    sample.seg_logits = PixelData(
        data=torch.as_tensor(logits, dtype=torch.float32)[None])
    sample.gt_sem_seg = PixelData(data=torch.as_tensor(mask)[None])
    evaluator = Evaluator(dict(type='IRSTDMetric'))
    with pytest.raises(ValueError,
                       match=r'frames/b\.png is NaN at 256 of 256 pixels'):
        evaluator.process([sample], dict(data_samples=[sample]))


@pytest.mark.parametrize('legacy_resize', [None, 8])
def test_infinite_logits_are_saturated_scores(legacy_resize):
    # +inf = certainly a target, -inf = certainly background (a saturated
    # float16 logit overflows to inf): scored, not an error.
    logits, mask = _target_case()
    inf_logits = np.where(mask > 0, np.inf, -np.inf)
    ref = _evaluate(IRSTDMetric(legacy_resize=legacy_resize),
                    [_sample(logits, mask)])
    got = _evaluate(IRSTDMetric(legacy_resize=legacy_resize),
                    [_sample(inf_logits, mask)])
    assert got == ref
    assert (got['irstd/IoU'], got['irstd/Pd']) == (1.0, 1.0)
