"""Hand-built cases for the component labelling / matching functions."""
import numpy as np
import pytest
from skimage.measure import label, regionprops

from serankdet.evaluation import (binarize, image_statistics,
                                  label_components, match_targets,
                                  normalize_thresholds)


pytestmark = pytest.mark.smoke


def _mask(shape, pixels):
    mask = np.zeros(shape, dtype=np.uint8)
    for r, c in pixels:
        mask[r, c] = 1
    return mask


def _box(mask, r0, r1, c0, c1, value=1):
    mask[r0:r1 + 1, c0:c1 + 1] = value
    return mask


def test_label_components_hand_case():
    # 2x2 block rows 1-2 cols 3-4 -> centroid (1.5, 3.5), area 4;
    # diagonal pair (4,0),(5,1) is ONE 8-connected component -> (4.5, 0.5).
    mask = _box(np.zeros((8, 8), np.uint8), 1, 2, 3, 4)
    mask[4, 0] = mask[5, 1] = 1
    comp = label_components(mask)
    assert comp.num == 2
    np.testing.assert_array_equal(comp.areas, [4, 2])
    np.testing.assert_allclose(comp.centroids, [[1.5, 3.5], [4.5, 0.5]])
    assert comp.labels[1, 3] == 1 and comp.labels[5, 1] == 2
    np.testing.assert_array_equal(comp.stats, [[3, 1, 2, 2, 4],
                                               [0, 4, 2, 2, 2]])
    # (1, H, W) and bool input give the same labels; it unpacks as a tuple.
    labels, stats, centroids = label_components(mask[None].astype(bool))
    np.testing.assert_array_equal(labels, comp.labels)
    np.testing.assert_array_equal(stats, comp.stats)
    # Empty mask and a single component.
    empty = label_components(np.zeros((4, 5), np.uint8))
    assert empty.num == 0 and empty.labels.shape == (4, 5)
    assert not empty.labels.any() and empty.centroids.shape == (0, 2)
    single = label_components(_box(np.zeros((6, 6), np.uint8), 2, 4, 1, 2))
    np.testing.assert_array_equal(single.stats, [[1, 2, 2, 3, 6]])
    np.testing.assert_allclose(single.centroids, [[3.0, 1.5]])
    assert single.labels.sum() == 6 and single.labels[2:5, 1:3].all()


def test_label_components_matches_skimage_numbering():
    # OpenCV numbers blocks of two rows; the renumbering must give skimage's
    # raster order (the legacy greedy matching depends on it).
    rng = np.random.default_rng(0)
    for _ in range(20):
        mask = (rng.random((24, 31)) < 0.2).astype(np.uint8)
        comp = label_components(mask)
        ref = label(mask, connectivity=2)
        np.testing.assert_array_equal(comp.labels, ref)
        props = regionprops(ref)
        np.testing.assert_allclose(comp.centroids,
                                   [p.centroid for p in props])
        np.testing.assert_array_equal(comp.areas, [p.area for p in props])
        # OpenCV stats layout: left, top, width, height, area.
        np.testing.assert_array_equal(
            comp.stats,
            [(p.bbox[1], p.bbox[0], p.bbox[3] - p.bbox[1],
              p.bbox[2] - p.bbox[0], p.area) for p in props])


def test_binarize_threshold_in_probability_space():
    # sigmoid(0.1) = 0.52498: a target at p > 0.5, not at p > 0.6.
    logits = np.array([[0.1, -0.1, 0.0]], dtype=np.float32)
    np.testing.assert_array_equal(binarize(logits, 0.5), [[True, False,
                                                           False]])
    np.testing.assert_array_equal(binarize(logits, 0.6), [[False, False,
                                                           False]])
    probs = np.array([[0.52, 0.6, 0.61]])
    np.testing.assert_array_equal(
        binarize(probs, 0.6, from_logits=False), [[False, False, True]])
    # Exact comparison at float32 ties: logit(0.7) = 0.8472978603872037;
    # x > logit(t) must hold exactly for the float32 neighbours of it.
    exact = np.log(0.7 / 0.3)
    x = np.float32(exact)
    near = np.array([[np.nextafter(x, np.float32(-1)), x,
                      np.nextafter(x, np.float32(2))]], dtype=np.float32)
    np.testing.assert_array_equal(
        binarize(near, 0.7), near.astype(np.float64) > exact)
    with pytest.raises(ValueError, match='probability'):
        binarize(logits, 1.5)


def test_equal_area_clutter_counts_as_false_alarm():
    # 32x32; target 3x3 at rows 10-12 cols 10-12 (centroid (11, 11));
    # prediction = the target + a 3x3 clutter blob at cols 20-22 (centroid
    # (11, 21), 10 px away). Fa = 9 px, 1 object. The reference area-keyed
    # de-dup drops the clutter because its area (9) equals the matched area.
    gt = _box(np.zeros((32, 32), np.uint8), 10, 12, 10, 12)
    logits = np.full((32, 32), -5.0, np.float32)
    _box(logits, 10, 12, 10, 12, 5.0)
    _box(logits, 10, 12, 20, 22, 5.0)
    stats = image_statistics(logits, gt)
    assert (stats['tp'], stats['fp'], stats['fn']) == (9, 9, 0)
    assert (stats['n_gt'], stats['n_pred'], stats['n_matched']) == (1, 2, 1)
    assert (stats['fa_pixels'], stats['fa_objects']) == (9, 1)
    assert stats['iou'] == pytest.approx(9 / 18)
    assert stats['pixels'] == 1024
    bug = image_statistics(logits, gt, fa_area_dedup=True)
    assert (bug['fa_pixels'], bug['fa_objects']) == (0, 0)
    # A clutter blob of a different area (3x4 = 12) is counted either way.
    _box(logits, 10, 13, 20, 22, 5.0)
    bug = image_statistics(logits, gt, fa_area_dedup=True)
    assert (bug['fa_pixels'], bug['fa_objects']) == (12, 1)


def test_fragmented_target_one_match_one_false_alarm():
    # Target: row 5, cols 5-11 (7 px, centroid (5, 8)). Prediction: two
    # fragments cols 5-7 (centroid (5, 6)) and cols 9-11 (centroid (5, 10)),
    # both 2 px away. One-to-one: the first matches, the second (3 px) is a
    # false alarm although it overlaps the target. tp 6, fp 0, fn 1.
    gt = _box(np.zeros((16, 16), np.uint8), 5, 5, 5, 11)
    pred = _box(np.zeros((16, 16), np.uint8), 5, 5, 5, 7)
    _box(pred, 5, 5, 9, 11)
    for matching in ('hungarian', 'greedy'):
        match = match_targets(pred, gt, matching=matching)
        assert match.num_matched == 1 and match.num_pred == 2
        assert (match.fa_pixels, match.fa_objects) == (3, 1)
        assert match.missed.size == 0
    logits = np.where(pred > 0, 3.0, -3.0).astype(np.float32)
    stats = image_statistics(logits, gt)
    assert (stats['tp'], stats['fp'], stats['fn']) == (6, 0, 1)
    assert (stats['n_matched'], stats['fa_pixels']) == (1, 3)


def test_close_targets_greedy_vs_hungarian():
    # 1-px targets g1 (5,5), g2 (5,7), 2 px apart; predictions p1 (6,6)
    # (raster-first, label 1) and p2 (7,3) (label 2).
    # d(g1,p1) = 1.41, d(g2,p1) = 1.41, d(g1,p2) = sqrt(8) = 2.83,
    # d(g2,p2) = sqrt(20) = 4.47 (too far).
    # Greedy (reference): g1 takes the first hit p1; g2 has nothing left
    # -> 1 match, p2 is a 1-px false alarm, g2 missed.
    # Hungarian (max matches first): g1-p2 and g2-p1 -> 2 matches, no Fa.
    gt = _mask((12, 12), [(5, 5), (5, 7)])
    pred = _mask((12, 12), [(6, 6), (7, 3)])
    greedy = match_targets(pred, gt, matching='greedy')
    np.testing.assert_array_equal(greedy.pairs, [[1, 1]])
    np.testing.assert_array_equal(greedy.false_alarms, [2])
    np.testing.assert_array_equal(greedy.missed, [2])
    assert greedy.fa_pixels == 1
    np.testing.assert_array_equal(
        greedy.false_alarm_mask(), pred.astype(bool) & (np.arange(12) == 3))
    np.testing.assert_array_equal(greedy.missed_mask(),
                                  _mask((12, 12), [(5, 7)]).astype(bool))
    best = match_targets(pred, gt, matching='hungarian')
    np.testing.assert_array_equal(best.pairs, [[1, 2], [2, 1]])
    np.testing.assert_allclose(best.distances, [np.sqrt(8), np.sqrt(2)])
    assert best.false_alarms.size == 0 and best.missed.size == 0
    with pytest.raises(ValueError, match='matching must be one of'):
        match_targets(pred, gt, matching='nearest')


def test_hungarian_prefers_smaller_total_distance():
    # Equal cardinality: g1 (2,2), g2 (2,8); p1 (2,4) (label 1), p2 (2,6).
    # d(g1,p1)=2, d(g2,p2)=2 (total 4) vs d(g1,p2)=4 (not allowed).
    gt = _mask((6, 12), [(2, 2), (2, 8)])
    pred = _mask((6, 12), [(2, 4), (2, 6)])
    match = match_targets(pred, gt)
    np.testing.assert_array_equal(match.pairs, [[1, 1], [2, 2]])
    np.testing.assert_allclose(match.distances, [2.0, 2.0])


def test_distance_is_strict():
    # Centroids exactly 3 px apart do not match (reference: distance < 3).
    gt = _mask((8, 8), [(1, 1)])
    assert match_targets(_mask((8, 8), [(1, 4)]), gt).num_matched == 0
    assert match_targets(_mask((8, 8), [(1, 3)]), gt).num_matched == 1


def test_target_at_the_border():
    # Target: 2x2 in the bottom-right corner of 16x16, rows/cols 14-15,
    # centroid (14.5, 14.5). Prediction: rows 14-15, cols 13-15 (6 px,
    # centroid (14.5, 14)): matched, tp 4, fp 2, fn 0, no Fa.
    gt = _box(np.zeros((16, 16), np.uint8), 14, 15, 14, 15)
    logits = np.full((16, 16), -4.0, np.float32)
    _box(logits, 14, 15, 13, 15, 4.0)
    stats = image_statistics(logits, gt)
    assert (stats['tp'], stats['fp'], stats['fn']) == (4, 2, 0)
    assert stats['n_gt'] == stats['n_matched'] == 1
    assert stats['fa_pixels'] == 0


def test_image_statistics_curves_and_errors():
    # One 1-px target with logit 1 (p = 0.731) and a 1-px clutter with logit
    # -0.5 (p = 0.378): at p > 0.25 both, at 0.5 the target only, at 0.75
    # nothing.
    gt = _mask((8, 8), [(2, 2)])
    logits = np.full((8, 8), -6.0, np.float32)
    logits[2, 2], logits[6, 6] = 1.0, -0.5
    grid = normalize_thresholds([0.75, 0.25, 0.5, 0.5])
    np.testing.assert_array_equal(grid, [0.25, 0.5, 0.75])
    stats = image_statistics(logits, gt, curve_thresholds=grid)
    # columns: tp fp fn n_pred n_matched fa_pixels fa_objects
    np.testing.assert_array_equal(
        stats['curve'],
        [[1, 1, 0, 2, 1, 1, 1], [1, 0, 0, 1, 1, 0, 0], [0, 0, 1, 0, 0, 0, 0]])
    np.testing.assert_allclose(normalize_thresholds(3), [0.25, 0.5, 0.75])
    with pytest.raises(ValueError, match='same shape'):
        image_statistics(logits, gt[:4])
    with pytest.raises(ValueError, match=r'\(H, W\) or \(1, H, W\)'):
        image_statistics(logits[None, None], gt)
    with pytest.raises(ValueError, match='curve_thresholds'):
        normalize_thresholds([0.5, 1.2])


def test_hungarian_maximises_the_number_of_matches():
    # On random clusters of 1-px components, the optimal assignment matches
    # as many targets as a maximum bipartite matching of the allowed pairs
    # (d < 3), never fewer than greedy, and every pair is allowed.
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import maximum_bipartite_matching
    rng = np.random.default_rng(1)
    for _ in range(30):
        gt = (rng.random((12, 12)) < 0.12).astype(np.uint8)
        pred = (rng.random((12, 12)) < 0.12).astype(np.uint8)
        best = match_targets(pred, gt)
        greedy = match_targets(pred, gt, matching='greedy')
        g, p = best.gt.centroids, best.pred.centroids
        allowed = np.linalg.norm(g[:, None] - p[None], axis=-1) < 3
        expected = 0
        if allowed.size:
            expected = np.count_nonzero(
                maximum_bipartite_matching(csr_matrix(allowed)) >= 0)
        assert best.num_matched == expected >= greedy.num_matched
        assert np.all(best.distances < 3)
        assert best.num_matched + len(best.false_alarms) == best.num_pred
        assert best.num_matched + len(best.missed) == best.num_gt


@pytest.mark.parametrize('layout', ['opencv4', 'opencv5'])
def test_label_components_with_either_findnonzero_layout(monkeypatch,
                                                         layout):
    # cv2.findNonZero returns (P, 1, 2) in OpenCV 4 and (P, 2) in OpenCV 5
    # (and None for an empty image in 4.x): both layouts must give the same
    # components, whichever OpenCV is installed.
    import cv2

    from serankdet.evaluation import functional
    real = cv2.findNonZero

    def find_non_zero(image):
        points = real(image)
        if points is None:
            return None
        points = points.reshape(-1, 2)
        return points[:, None] if layout == 'opencv4' else points

    monkeypatch.setattr(functional.cv2, 'findNonZero', find_non_zero)
    rng = np.random.default_rng(1)
    masks = [(rng.random((17, 23)) < 0.25).astype(np.uint8),
             _mask((5, 5), [(2, 3)]),                       # one pixel
             _box(np.zeros((6, 6), np.uint8), 2, 4, 1, 2),  # one component
             _mask((5, 5), [(0, 0), (4, 4)])]               # two pixels
    for mask in masks:
        comp = label_components(mask)
        ref = label(mask, connectivity=2)
        np.testing.assert_array_equal(comp.labels, ref)
        np.testing.assert_allclose(
            comp.centroids, [p.centroid for p in regionprops(ref)])
        np.testing.assert_array_equal(
            comp.areas, [p.area for p in regionprops(ref)])


def test_nonzero_points_layouts():
    from serankdet.evaluation.functional import _nonzero_points
    xy = np.array([[3, 0], [1, 2]], np.int32)
    np.testing.assert_array_equal(_nonzero_points(xy[:, None]), xy)  # 4.x
    np.testing.assert_array_equal(_nonzero_points(xy), xy)           # 5.x
    assert _nonzero_points(None).shape == (0, 2)      # 4.x, empty image
    assert _nonzero_points(np.zeros((0, 2), np.int32)).shape == (0, 2)
