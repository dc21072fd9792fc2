"""Target-level building blocks of the IRSTD metrics.

These functions work on one image, as NumPy arrays, and are shared by
:class:`~serankdet.evaluation.IRSTDMetric`, the visualizer and the
folder-inference tool:

* :func:`binarize`: scores (logits or probabilities) -> boolean mask, with
  the threshold always given as a probability.
* :func:`label_components`: 8-connected components with areas and centroids,
  numbered like ``skimage.measure.label(mask, connectivity=2)``.
* :func:`match_components` / :func:`match_targets`: one-to-one matching of
  predicted and ground-truth components whose centroids are closer than
  ``distance`` pixels (optimal or legacy greedy).
* :func:`image_statistics`: the per-image sufficient statistics that the
  metric accumulates over a data set.
"""
from dataclasses import dataclass
from typing import Dict, NamedTuple, Optional, Sequence, Union

import cv2
import numpy as np
from scipy.optimize import linear_sum_assignment
from scipy.spatial.distance import cdist

MATCHING_MODES = ('hungarian', 'greedy')

#: Columns of the per-threshold count array returned by
#: :func:`image_statistics` when ``curve_thresholds`` is given.
CURVE_FIELDS = ('tp', 'fp', 'fn', 'n_pred', 'n_matched', 'fa_pixels',
                'fa_objects')


def _as_2d(array: np.ndarray, name: str) -> np.ndarray:
    """Accept (H, W) or (1, H, W) arrays and return the (H, W) view."""
    array = np.asarray(array)
    if array.ndim == 3 and array.shape[0] == 1:
        array = array[0]
    if array.ndim != 2:
        raise ValueError(f'{name} must have shape (H, W) or (1, H, W), got '
                         f'{tuple(array.shape)}')
    return array


def _check_matching(matching: str) -> None:
    if matching not in MATCHING_MODES:
        raise ValueError(f'matching must be one of {MATCHING_MODES}, got '
                         f'{matching!r}')


def _score_threshold(threshold: float, dtype: np.dtype,
                     from_logits: bool) -> np.ndarray:
    """The value ``v`` such that ``score > v`` <=> ``prob(score) > threshold``.

    For logits the probability threshold becomes ``log(t / (1 - t))``
    (computed in float64; 0 and 1 map to -inf and +inf). It is then rounded
    *down* to ``dtype`` so that comparing in the scores' own precision gives
    the same answer as comparing exactly: for a value ``x`` of that dtype,
    ``x > L`` holds iff ``x > (largest dtype value <= L)``.
    """
    if not 0.0 <= threshold <= 1.0:
        raise ValueError(f'threshold is a probability in [0, 1], got '
                         f'{threshold}')
    if from_logits:
        with np.errstate(divide='ignore'):
            value = np.log(threshold) - np.log1p(-threshold)
    else:
        value = float(threshold)
    rounded = np.asarray(value, dtype=dtype)
    if rounded > value:
        rounded = np.nextafter(rounded, dtype.type(-np.inf))
    return rounded


def binarize(scores: np.ndarray,
             threshold: float = 0.5,
             from_logits: bool = True) -> np.ndarray:
    """Threshold a score map in probability space.

    Args:
        scores (np.ndarray): (H, W) or (1, H, W) logits (``from_logits``) or
            probabilities.
        threshold (float): probability threshold in [0, 1]; a pixel is a
            target when ``sigmoid(logit) > threshold`` (strict), evaluated
            exactly (no float32 sigmoid saturation).
        from_logits (bool): whether ``scores`` are logits.

    Returns:
        np.ndarray: (H, W) bool mask.
    """
    scores = _as_2d(scores, 'scores')
    if not np.issubdtype(scores.dtype, np.floating):
        scores = scores.astype(np.float32)
    return scores > _score_threshold(threshold, scores.dtype, from_logits)


class Components(NamedTuple):
    """8-connected components of a binary mask.

    Attributes:
        labels (np.ndarray): (H, W) int32 label image, 0 = background,
            components numbered 1..N in raster order of their first pixel
            (the numbering of ``skimage.measure.label``).
        stats (np.ndarray): (N, 5) int32 OpenCV stats of components 1..N
            (row ``k - 1`` is label ``k``): left, top, width, height, area.
        centroids (np.ndarray): (N, 2) float64 centroids as (row, col), the
            mean pixel coordinates (``skimage`` ``regionprops().centroid``).
    """
    labels: np.ndarray
    stats: np.ndarray
    centroids: np.ndarray

    @property
    def num(self) -> int:
        """Number of components N."""
        return len(self.stats)

    @property
    def areas(self) -> np.ndarray:
        """(N,) pixel counts of components 1..N."""
        return self.stats[:, cv2.CC_STAT_AREA]


def label_components(mask: np.ndarray) -> Components:
    """Label the 8-connected components of a binary mask.

    Uses ``cv2.connectedComponentsWithStats`` (connectivity 8). OpenCV's
    block-based labelling numbers components in its own order; they are
    renumbered in raster order of their first pixel so that label order,
    which the legacy greedy matching depends on, equals skimage's.

    Args:
        mask (np.ndarray): (H, W) or (1, H, W) array, non-zero = foreground.

    Returns:
        Components: ``(labels, stats, centroids)``.
    """
    mask = _as_2d(mask, 'mask')
    if mask.dtype != np.uint8:
        mask = (mask != 0).view(np.uint8)
    num, labels, stats, centroids = cv2.connectedComponentsWithStats(
        np.ascontiguousarray(mask), connectivity=8, ltype=cv2.CV_32S)
    # Row 0 of stats/centroids is the background; cv2 centroids are (x, y).
    stats, centroids = stats[1:], centroids[1:, ::-1]
    if num > 2:
        flat = labels.ravel()
        foreground = np.flatnonzero(flat)
        # np.unique gives, per label 1..N, the index of its first pixel in
        # the (sorted) raster order of foreground pixels.
        _, first = np.unique(flat[foreground], return_index=True)
        order = np.argsort(first)
        if np.any(order[1:] < order[:-1]):
            lut = np.empty(num, dtype=np.int32)
            lut[0] = 0
            lut[order + 1] = np.arange(1, num, dtype=np.int32)
            labels = lut[labels]
            stats, centroids = stats[order], centroids[order]
    return Components(labels, stats, np.ascontiguousarray(centroids))


@dataclass
class TargetMatch:
    """Result of matching predicted components to ground-truth targets.

    Labels are 1-based indices into ``pred`` / ``gt`` (row ``label - 1`` of
    their ``stats`` and ``centroids``).

    Attributes:
        pred (Components): predicted components.
        gt (Components): ground-truth components (targets).
        pairs (np.ndarray): (K, 2) int64 matched ``(gt_label, pred_label)``
            pairs, sorted by gt label.
        distances (np.ndarray): (K,) centroid distances of the pairs in px.
        false_alarms (np.ndarray): (M,) sorted labels of unmatched predicted
            components.
        missed (np.ndarray): (L,) sorted labels of undetected targets.
    """
    pred: Components
    gt: Components
    pairs: np.ndarray
    distances: np.ndarray
    false_alarms: np.ndarray
    missed: np.ndarray

    @property
    def num_gt(self) -> int:
        return self.gt.num

    @property
    def num_pred(self) -> int:
        return self.pred.num

    @property
    def num_matched(self) -> int:
        return len(self.pairs)

    @property
    def fa_pixels(self) -> int:
        """Pixels of the unmatched predicted components (by label)."""
        return int(self.pred.areas[self.false_alarms - 1].sum())

    @property
    def fa_objects(self) -> int:
        return len(self.false_alarms)

    def false_alarm_mask(self) -> np.ndarray:
        """(H, W) bool mask of the unmatched predicted components."""
        return np.isin(self.pred.labels, self.false_alarms)

    def missed_mask(self) -> np.ndarray:
        """(H, W) bool mask of the undetected ground-truth targets."""
        return np.isin(self.gt.labels, self.missed)


def _hungarian(allowed: np.ndarray, dist: np.ndarray, distance: float):
    """Maximum-cardinality, then minimum-total-distance, assignment.

    Allowed pairs cost their distance (< ``distance``); forbidden pairs cost
    ``big = distance * (min(G, P) + 1)``. Any assignment's allowed part costs
    less than ``min(G, P) * distance < big``, so one more forbidden pair
    always costs more than all allowed distances together: minimising the
    total cost first maximises the number of allowed (matched) pairs, then
    minimises their summed distance. Forbidden pairs are dropped afterwards.
    """
    # Only rows/columns with an allowed pair can be matched; solving the
    # reduced problem is equivalent and keeps the matrix tiny.
    rows = np.flatnonzero(allowed.any(axis=1))
    cols = np.flatnonzero(allowed.any(axis=0))
    sub_allowed = allowed[np.ix_(rows, cols)]
    big = distance * (min(len(rows), len(cols)) + 1)
    cost = np.where(sub_allowed, dist[np.ix_(rows, cols)], big)
    r, c = linear_sum_assignment(cost)
    keep = sub_allowed[r, c]
    return rows[r[keep]], cols[c[keep]]


def _greedy(allowed: np.ndarray):
    """Reference order: each target in label order takes the first still
    unmatched predicted component (in label order) within the distance."""
    available = np.ones(allowed.shape[1], dtype=bool)
    gt_idx, pred_idx = [], []
    for g in np.flatnonzero(allowed.any(axis=1)):
        hits = np.flatnonzero(allowed[g] & available)
        if len(hits):
            available[hits[0]] = False
            gt_idx.append(g)
            pred_idx.append(hits[0])
    return (np.asarray(gt_idx, dtype=np.int64),
            np.asarray(pred_idx, dtype=np.int64))


def match_components(pred: Components,
                     gt: Components,
                     distance: float = 3.0,
                     matching: str = 'hungarian') -> TargetMatch:
    """Match predicted components to targets one-to-one by centroid distance.

    A pair may match when the Euclidean distance between centroids is
    strictly below ``distance``.

    Args:
        pred (Components): predicted components (:func:`label_components`).
        gt (Components): ground-truth components.
        distance (float): matching radius in pixels (3 in every reference).
        matching (str): ``'hungarian'`` (default) finds the largest number of
            matches, then the smallest total distance
            (``scipy.optimize.linear_sum_assignment``, see
            :func:`_hungarian`); ``'greedy'`` reproduces the reference
            first-found order, which can match fewer targets.

    Returns:
        TargetMatch: pairs, false alarms and missed targets.
    """
    _check_matching(matching)
    if distance <= 0:
        raise ValueError(f'distance must be positive, got {distance}')
    gt_idx = pred_idx = np.zeros(0, dtype=np.int64)
    dists = np.zeros(0, dtype=np.float64)
    if gt.num and pred.num:
        dist = cdist(gt.centroids, pred.centroids)
        allowed = dist < distance
        if allowed.any():
            if matching == 'hungarian':
                gt_idx, pred_idx = _hungarian(allowed, dist, distance)
            else:
                gt_idx, pred_idx = _greedy(allowed)
            order = np.argsort(gt_idx)
            gt_idx, pred_idx = gt_idx[order], pred_idx[order]
            dists = dist[gt_idx, pred_idx]
    pred_free = np.ones(pred.num, dtype=bool)
    pred_free[pred_idx] = False
    gt_free = np.ones(gt.num, dtype=bool)
    gt_free[gt_idx] = False
    return TargetMatch(
        pred=pred,
        gt=gt,
        pairs=np.stack([gt_idx + 1, pred_idx + 1], axis=1).astype(np.int64),
        distances=dists,
        false_alarms=np.flatnonzero(pred_free) + 1,
        missed=np.flatnonzero(gt_free) + 1)


def match_targets(pred_mask: np.ndarray,
                  gt_mask: np.ndarray,
                  distance: float = 3.0,
                  matching: str = 'hungarian') -> TargetMatch:
    """Label both binary masks (8-connectivity) and match their components.

    Args:
        pred_mask (np.ndarray): (H, W) predicted mask, non-zero = target.
        gt_mask (np.ndarray): (H, W) ground-truth mask, non-zero = target.
        distance (float): matching radius in px (strict ``<``).
        matching (str): ``'hungarian'`` or ``'greedy'``.

    Returns:
        TargetMatch: see :func:`match_components`.
    """
    pred_mask = _as_2d(pred_mask, 'pred_mask')
    gt_mask = _as_2d(gt_mask, 'gt_mask')
    if pred_mask.shape != gt_mask.shape:
        raise ValueError(f'pred_mask {pred_mask.shape} and gt_mask '
                         f'{gt_mask.shape} must have the same shape')
    return match_components(
        label_components(pred_mask), label_components(gt_mask), distance,
        matching)


def _mask_counts(pred: np.ndarray, gt: np.ndarray, n_gt_pixels: int):
    """Pixel (tp, fp, fn) of two bool masks."""
    tp = int(np.count_nonzero(pred & gt))
    return tp, int(np.count_nonzero(pred)) - tp, n_gt_pixels - tp


def _false_alarms(match: TargetMatch, fa_area_dedup: bool):
    """(fa_pixels, fa_objects) of a match.

    ``fa_area_dedup`` reproduces the reference bug: a predicted component is
    dropped from the false alarms when its *area value* equals the area of
    any matched component of the image (so matched components and equal-area
    clutter are both excluded).
    """
    if not fa_area_dedup:
        return match.fa_pixels, match.fa_objects
    areas = match.pred.areas
    kept = ~np.isin(areas, areas[match.pairs[:, 1] - 1])
    return int(areas[kept].sum()), int(np.count_nonzero(kept))


def normalize_thresholds(
        thresholds: Union[int, Sequence[float]]) -> np.ndarray:
    """A sorted float64 grid of probability thresholds.

    Args:
        thresholds (int | Sequence[float]): an int ``n >= 1`` gives the ``n``
            evenly spaced points ``k / (n + 1)``, k = 1..n (e.g. 19 ->
            0.05, 0.10, ..., 0.95); a sequence is used as given (values in
            [0, 1], sorted, duplicates removed).

    Returns:
        np.ndarray: (T,) float64 thresholds, increasing.
    """
    if isinstance(thresholds, (int, np.integer)) and not isinstance(
            thresholds, bool):
        if thresholds < 1:
            raise ValueError(
                f'curve_thresholds as an int is a number of points >= 1, got '
                f'{thresholds}')
        return np.arange(1, thresholds + 1) / (thresholds + 1)
    grid = np.unique(np.asarray(thresholds, dtype=np.float64))
    if grid.ndim != 1 or len(grid) == 0 or grid[0] < 0 or grid[-1] > 1:
        raise ValueError('curve_thresholds must be an int or a non-empty list '
                         f'of probabilities in [0, 1], got {thresholds!r}')
    return grid


def image_statistics(scores: np.ndarray,
                     gt: np.ndarray,
                     threshold: float = 0.5,
                     *,
                     from_logits: bool = True,
                     distance: float = 3.0,
                     matching: str = 'hungarian',
                     fa_area_dedup: bool = False,
                     curve_thresholds: Optional[np.ndarray] = None
                     ) -> Dict[str, Union[int, float, np.ndarray]]:
    """Per-image sufficient statistics of the IRSTD metrics.

    Args:
        scores (np.ndarray): (H, W) or (1, H, W) logits or probabilities.
        gt (np.ndarray): (H, W) or (1, H, W) mask, non-zero = target.
        threshold (float): probability threshold (see :func:`binarize`).
        from_logits (bool): whether ``scores`` are logits.
        distance (float): matching radius in px.
        matching (str): ``'hungarian'`` or ``'greedy'``.
        fa_area_dedup (bool): reproduce the reference area-keyed Fa bug.
        curve_thresholds (np.ndarray, optional): (T,) probability grid (see
            :func:`normalize_thresholds`) at which to count as well.

    Returns:
        dict: ints ``tp``, ``fp``, ``fn`` (pixels), ``pixels`` (H*W),
        ``n_gt`` (targets), ``n_pred`` (predicted components), ``n_matched``,
        ``fa_pixels``, ``fa_objects``; float ``iou`` = tp / (tp + fp + fn)
        (0 when the image has neither targets nor predictions); and, with
        ``curve_thresholds``, ``curve``: (T, 7) int64 counts whose columns
        are :data:`CURVE_FIELDS`.
    """
    scores = _as_2d(scores, 'scores')
    gt_mask = _as_2d(gt, 'gt') != 0
    if scores.shape != gt_mask.shape:
        raise ValueError(f'scores {scores.shape} and gt {gt_mask.shape} must '
                         'have the same shape')
    _check_matching(matching)
    gt_comp = label_components(gt_mask.view(np.uint8))
    n_gt_pixels = int(np.count_nonzero(gt_mask))

    def at(thr):
        pred = binarize(scores, thr, from_logits)
        tp, fp, fn = _mask_counts(pred, gt_mask, n_gt_pixels)
        match = match_components(
            label_components(pred.view(np.uint8)), gt_comp, distance,
            matching)
        fa_pixels, fa_objects = _false_alarms(match, fa_area_dedup)
        return (tp, fp, fn, match.num_pred, match.num_matched, fa_pixels,
                fa_objects)

    tp, fp, fn, n_pred, n_matched, fa_pixels, fa_objects = at(threshold)
    union = tp + fp + fn
    stats = dict(
        tp=tp,
        fp=fp,
        fn=fn,
        pixels=int(gt_mask.size),
        n_gt=gt_comp.num,
        n_pred=n_pred,
        n_matched=n_matched,
        fa_pixels=fa_pixels,
        fa_objects=fa_objects,
        iou=tp / union if union else 0.0)
    if curve_thresholds is not None:
        stats['curve'] = np.array([at(t) for t in curve_thresholds],
                                  dtype=np.int64).reshape(-1,
                                                          len(CURVE_FIELDS))
    return stats
