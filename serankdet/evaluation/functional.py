"""Target-level building blocks of the IRSTD metrics.

These functions work on one image, as NumPy arrays, and are shared by
:class:`~serankdet.evaluation.IRSTDMetric`, the visualizer and the
folder-inference tool:

* :func:`binarize`: scores (logits or probabilities) -> boolean mask, with
  the threshold always given as a probability.
* :class:`DecisionRule`: the model's rule from scores to a target mask
  (threshold, then optional area bounds and hysteresis per component); the
  segmentor's predictions, the metric, the inferencer and the panels all
  apply this one rule.
* :func:`label_components`: 8-connected components with areas and centroids,
  numbered like ``skimage.measure.label(mask, connectivity=2)``.
* :func:`match_components` / :func:`match_targets`: one-to-one matching of
  predicted and ground-truth components whose centroids are closer than
  ``distance`` pixels (optimal or legacy greedy).
* :func:`image_statistics`: the per-image sufficient statistics that the
  metric accumulates over a data set.
"""
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace
from functools import lru_cache
from typing import Dict, Optional, Sequence, Tuple, Union

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


@lru_cache(maxsize=256)
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


@dataclass(frozen=True)
class Components:
    """8-connected components of a binary mask.

    Unpacks as ``labels, stats, centroids = label_components(mask)``.

    Attributes:
        shape (tuple[int, int]): (H, W) of the mask.
        offset (tuple[int, int]): (row, col) of ``crop_labels``' top-left
            pixel in the mask.
        crop_labels (np.ndarray): (h, w) int32 labels inside the bounding box
            of the foreground; :attr:`labels` pastes them into the image.
        stats (np.ndarray): (N, 5) int32 stats of components 1..N in OpenCV's
            layout (row ``k - 1`` is label ``k``): left, top, width, height,
            area, in image coordinates.
        centroids (np.ndarray): (N, 2) float64 centroids as (row, col), the
            mean pixel coordinates (``skimage`` ``regionprops().centroid``).
    """
    shape: Tuple[int, int]
    offset: Tuple[int, int]
    crop_labels: np.ndarray
    stats: np.ndarray
    centroids: np.ndarray

    @property
    def labels(self) -> np.ndarray:
        """(H, W) int32 label image, 0 = background, components numbered
        1..N in raster order of their first pixel (the numbering of
        ``skimage.measure.label``). Built on demand: the metric only needs
        ``stats`` and ``centroids``."""
        labels = np.zeros(self.shape, dtype=np.int32)
        (y0, x0), (h, w) = self.offset, self.crop_labels.shape
        labels[y0:y0 + h, x0:x0 + w] = self.crop_labels
        return labels

    @property
    def num(self) -> int:
        """Number of components N."""
        return len(self.stats)

    @property
    def areas(self) -> np.ndarray:
        """(N,) pixel counts of components 1..N."""
        return self.stats[:, cv2.CC_STAT_AREA]

    def __iter__(self):
        return iter((self.labels, self.stats, self.centroids))


@contextmanager
def _cv2_single_thread():
    """Run OpenCV calls on one thread.

    OpenCV's parallel labelling splits an image into row stripes and merges
    them; on IRSTD-sized images (<= 1024 px) the merge costs more than it
    saves (256x256: about 100 us on 2 threads vs 45 us on 1). Parallelism
    belongs to the level of images, not pixels.
    """
    threads = cv2.getNumThreads()
    cv2.setNumThreads(1)
    try:
        yield
    finally:
        cv2.setNumThreads(threads)


def _nonzero_points(points) -> np.ndarray:
    """``cv2.findNonZero``'s result as (P, 2) (x, y) coordinates.

    The layout depends on the OpenCV version: 4.x returns (P, 1, 2) (and
    ``None`` when there is no foreground pixel), 5.x returns (P, 2).
    Coordinates come in raster order in both.
    """
    if points is None:
        return np.zeros((0, 2), dtype=np.int32)
    return np.asarray(points).reshape(-1, 2)


def label_components(mask: np.ndarray) -> Components:
    """Label the 8-connected components of a binary mask.

    Labels come from ``cv2.connectedComponents`` (connectivity 8) run on the
    bounding box of the foreground only; areas, boxes and centroids are then
    reduced from the foreground pixels (``cv2.findNonZero``), which is far
    cheaper for small targets than ``connectedComponentsWithStats`` scanning
    every pixel. OpenCV's block-based labelling numbers components in its own
    order; they are renumbered in raster order of their first pixel so that
    label order, which the legacy greedy matching depends on, equals
    skimage's.

    Args:
        mask (np.ndarray): (H, W) or (1, H, W) array, non-zero = foreground.

    Returns:
        Components: unpacks as ``(labels, stats, centroids)``.
    """
    mask = _as_2d(mask, 'mask')
    return _label_components(mask, (0, 0), mask.shape)


def _label_components(mask: np.ndarray, origin: Tuple[int, int],
                      shape: Tuple[int, int]) -> Components:
    """:func:`label_components` of ``mask``, a window of an image of
    ``shape`` whose top-left pixel is at ``origin`` (row, col) there: the
    result is the image's, bit for bit (its coordinates are offset before
    any arithmetic), as long as the window holds all of the image's
    foreground."""
    if mask.dtype != np.uint8:
        mask = (mask != 0).view(np.uint8)
    mask = np.ascontiguousarray(mask)
    x0, y0, w, h = cv2.boundingRect(mask)  # of the non-zero pixels
    if w == 0:
        return Components(tuple(shape), (0, 0),
                          np.zeros((0, 0), dtype=np.int32),
                          np.zeros((0, 5), dtype=np.int32),
                          np.zeros((0, 2), dtype=np.float64))
    crop = mask[y0:y0 + h, x0:x0 + w]
    y0, x0 = y0 + origin[0], x0 + origin[1]  # in the image
    if cv2.countNonZero(crop) * 8 > crop.size:
        return _label_dense(crop, (y0, x0), shape)
    with _cv2_single_thread():
        num, crop_labels = cv2.connectedComponents(
            crop, connectivity=8, ltype=cv2.CV_32S)
        # (P, 2) (x, y) foreground coordinates in raster order.
        points = _nonzero_points(cv2.findNonZero(crop))
    if num == 2:
        # A single component (the common case): its box is the crop.
        mean_x, mean_y = points.mean(axis=0)
        return Components(tuple(shape), (y0, x0), crop_labels,
                          np.array([[x0, y0, w, h, len(points)]], np.int32),
                          np.array([[mean_y + y0, mean_x + x0]]))
    cols, rows = points[:, 0], points[:, 1]
    lab = crop_labels[rows, cols]
    areas = np.bincount(lab, minlength=num)[1:]
    # Group the pixels by label; the stable sort keeps each group in raster
    # order, so a group starts with the component's first (top-left-most)
    # pixel and its rows are non-decreasing.
    grouped = np.argsort(lab, kind='stable')
    starts = np.zeros(num - 1, dtype=np.intp)
    np.cumsum(areas[:-1], out=starts[1:])
    g_rows, g_cols = rows[grouped], cols[grouped]
    stats = np.empty((num - 1, 5), dtype=np.int32)
    left = np.minimum.reduceat(g_cols, starts)
    top = g_rows[starts]
    stats[:, cv2.CC_STAT_LEFT] = left + x0
    stats[:, cv2.CC_STAT_TOP] = top + y0
    right = np.maximum.reduceat(g_cols, starts)
    stats[:, cv2.CC_STAT_WIDTH] = right + 1 - left
    stats[:, cv2.CC_STAT_HEIGHT] = g_rows[starts + areas - 1] + 1 - top
    stats[:, cv2.CC_STAT_AREA] = areas
    centroids = np.empty((num - 1, 2))
    centroids[:, 0] = np.add.reduceat(g_rows, starts, dtype=np.int64) / areas
    centroids[:, 1] = np.add.reduceat(g_cols, starts, dtype=np.int64) / areas
    centroids += (y0, x0)
    return _in_raster_order(grouped[starts], shape, (y0, x0), crop_labels,
                            stats, centroids)


def _in_raster_order(first: np.ndarray, shape: Tuple[int, int],
                     offset: Tuple[int, int], crop_labels: np.ndarray,
                     stats: np.ndarray, centroids: np.ndarray) -> Components:
    """Components numbered in raster order of their first pixels
    (skimage's numbering); ``first`` (N,) holds each label's smallest flat
    index in the crop, labels 1..N in their current order."""
    if np.any(first[1:] < first[:-1]):
        order = np.argsort(first)
        lut = np.zeros(len(first) + 1, dtype=np.int32)
        lut[order + 1] = np.arange(1, len(first) + 1, dtype=np.int32)
        crop_labels, stats, centroids = (lut[crop_labels], stats[order],
                                         centroids[order])
    return Components(tuple(shape), offset, crop_labels,
                      np.ascontiguousarray(stats),
                      np.ascontiguousarray(centroids))


def _label_dense(crop: np.ndarray, offset: Tuple[int, int],
                 shape: Tuple[int, int]) -> Components:
    """:func:`_label_components` of a crop more than 1/8 foreground (e.g. a
    noisy score map at a low threshold), the same result bit for bit:
    there, reducing the stats in OpenCV's labelling pass
    (``connectedComponentsWithStats``; its centroids are integer sums over
    the area too) beats sorting the many foreground pixels by label. Only
    the raster-order renumbering is left: each component's first pixel is
    its smallest flat index."""
    y0, x0 = offset
    with _cv2_single_thread():
        num, crop_labels, stats, centroids = cv2.connectedComponentsWithStats(
            crop, connectivity=8, ltype=cv2.CV_32S)
    stats = stats[1:].astype(np.int32)
    stats[:, cv2.CC_STAT_LEFT] += x0
    stats[:, cv2.CC_STAT_TOP] += y0
    centroids = centroids[1:, ::-1] + (y0, x0)  # (x, y) -> (row, col)
    flat = crop_labels.ravel()
    index = np.flatnonzero(flat)
    first = np.full(num, flat.size, dtype=np.intp)
    np.minimum.at(first, flat[index], index)
    return _in_raster_order(first[1:], shape, (y0, x0), crop_labels, stats,
                            centroids)


@dataclass(frozen=True)
class DecisionRule:
    """The rule from a score map to a target mask (the model's, owned by
    ``model.decode_head``).

    A pixel is a candidate when ``sigmoid(logit) > threshold``
    (:func:`binarize`, exact). Each 8-connected component of the
    candidates is kept when ``min_area <= area <= max_area`` and, with
    ``seed_threshold``, when its peak probability exceeds
    ``seed_threshold`` (hysteresis: a target is seeded above the high
    threshold and grown above the low one). Without area bounds and seed
    the mask is the thresholded map; both are off by default.

    Attributes:
        threshold (float): probability in (0, 1).
        min_area (int): smallest kept component, pixels (0 or 1: no bound).
        max_area (int, optional): largest kept component, pixels.
        seed_threshold (float, optional): probability in (0, 1) that the
            peak of a kept component must exceed; it has no effect at or
            below the threshold.
    """
    threshold: float = 0.5
    min_area: int = 0
    max_area: Optional[int] = None
    seed_threshold: Optional[float] = None

    def __post_init__(self):
        probabilities = dict(threshold=self.threshold)
        if self.seed_threshold is not None:
            probabilities['seed_threshold'] = self.seed_threshold
        for key, value in probabilities.items():
            if not (_is_real(value) and 0.0 < value < 1.0):
                raise ValueError(f'decode_head.{key} is a probability in '
                                 f'(0, 1), got {value!r}')
        if not (_is_int(self.min_area) and self.min_area >= 0):
            raise ValueError(f'decode_head.min_area is a pixel count >= 0, '
                             f'got {self.min_area!r}')
        if self.max_area is not None and not (
                _is_int(self.max_area)
                and self.max_area >= max(1, self.min_area)):
            raise ValueError(
                f'decode_head.max_area is a pixel count >= 1 and >= '
                f'min_area ({self.min_area}), got {self.max_area!r}')

    @property
    def filters_components(self) -> bool:
        """Whether components are filtered after thresholding."""
        return (self.min_area > 1 or self.max_area is not None
                or self.seed_threshold is not None)

    def with_threshold(self, threshold: float) -> 'DecisionRule':
        """The same rule at another ``threshold``."""
        return replace(self, threshold=float(threshold))

    def to_dict(self) -> dict:
        """``threshold``, ``min_area``, ``max_area``, ``seed_threshold``."""
        return asdict(self)

    def apply(self, scores: np.ndarray, from_logits: bool = True
              ) -> np.ndarray:
        """(H, W) bool target mask of (H, W) or (1, H, W) ``scores``
        (logits when ``from_logits``, else probabilities)."""
        scores = _as_2d(scores, 'scores')
        return self.select(binarize(scores, self.threshold, from_logits),
                           scores, from_logits)

    def select(self, candidates: np.ndarray, scores: np.ndarray,
               from_logits: bool = True) -> np.ndarray:
        """The components of ``candidates`` that pass the area bounds and
        the seed.

        Args:
            candidates (np.ndarray): (H, W) bool thresholded map, at
                :attr:`threshold` or, for a curve, at any other one.
            scores (np.ndarray): (H, W) the scores it was thresholded from.
            from_logits (bool): whether ``scores`` are logits.

        Returns:
            np.ndarray: (H, W) bool mask, ``candidates`` itself when the
            rule filters nothing.
        """
        if not self.filters_components:
            return candidates
        comps = label_components(candidates)
        if comps.num == 0:
            return candidates
        keep = np.zeros(comps.num + 1, dtype=bool)
        keep[1:] = comps.areas >= self.min_area
        if self.max_area is not None:
            keep[1:] &= comps.areas <= self.max_area
        (y0, x0), (h, w) = comps.offset, comps.crop_labels.shape
        if self.seed_threshold is not None:
            seeds = binarize(scores[y0:y0 + h, x0:x0 + w],
                             self.seed_threshold, from_logits)
            seeded = np.zeros_like(keep)
            seeded[comps.crop_labels[seeds]] = True
            keep &= seeded
        mask = np.zeros(candidates.shape, dtype=bool)
        mask[y0:y0 + h, x0:x0 + w] = keep[comps.crop_labels]
        return mask


def _is_real(value) -> bool:
    return isinstance(value, (int, float, np.number)) and not isinstance(
        value, bool)


def _is_int(value) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(
        value, bool)


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
            if (allowed.sum(axis=0).max() == 1
                    and allowed.sum(axis=1).max() == 1):
                # Every candidate pair is exclusive: both modes take all.
                gt_idx, pred_idx = np.nonzero(allowed)
            elif matching == 'hungarian':
                gt_idx, pred_idx = _hungarian(allowed, dist, distance)
            else:
                gt_idx, pred_idx = _greedy(allowed)
            # All three branches return gt indices in increasing order.
            dists = dist[gt_idx, pred_idx]
    pred_free = np.ones(pred.num, dtype=bool)
    pred_free[pred_idx] = False
    gt_free = np.ones(gt.num, dtype=bool)
    gt_free[gt_idx] = False
    pairs = np.empty((len(gt_idx), 2), dtype=np.int64)
    pairs[:, 0], pairs[:, 1] = gt_idx + 1, pred_idx + 1
    return TargetMatch(
        pred=pred,
        gt=gt,
        pairs=pairs,
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
                     rule: Optional[DecisionRule] = None,
                     *,
                     from_logits: bool = True,
                     distance: float = 3.0,
                     matching: str = 'hungarian',
                     fa_area_dedup: bool = False,
                     curve_thresholds: Union[None, int,
                                             Sequence[float]] = None
                     ) -> Dict[str, Union[int, float, np.ndarray]]:
    """Per-image sufficient statistics of the IRSTD metrics.

    Args:
        scores (np.ndarray): (H, W) or (1, H, W) logits or probabilities.
        gt (np.ndarray): (H, W) or (1, H, W) mask, non-zero = target.
        rule (DecisionRule, optional): the decision rule giving the
            predicted mask (default: ``DecisionRule()``, threshold 0.5).
        from_logits (bool): whether ``scores`` are logits.
        distance (float): matching radius in px.
        matching (str): ``'hungarian'`` or ``'greedy'``.
        fa_area_dedup (bool): reproduce the reference area-keyed Fa bug.
        curve_thresholds (int | Sequence[float], optional): probability grid
            at which to count as well, normalised (sorted) by
            :func:`normalize_thresholds`; ``rule`` at each of these
            thresholds (its area bounds and seed kept).

    Returns:
        dict: ints ``tp``, ``fp``, ``fn`` (pixels), ``pixels`` (H*W),
        ``n_gt`` (targets), ``n_pred`` (predicted components), ``n_matched``,
        ``fa_pixels``, ``fa_objects``; float ``iou`` = tp / (tp + fp + fn)
        (0 when the image has neither targets nor predictions); and, with
        ``curve_thresholds``, ``curve``: (T, 7) int64 counts, one row per
        sorted threshold, whose columns are :data:`CURVE_FIELDS`.
    """
    scores = _as_2d(scores, 'scores')
    gt_mask = _as_2d(gt, 'gt') != 0
    if scores.shape != gt_mask.shape:
        raise ValueError(f'scores {scores.shape} and gt {gt_mask.shape} must '
                         'have the same shape')
    _check_matching(matching)
    gt_comp = label_components(gt_mask.view(np.uint8))
    n_gt_pixels = int(np.count_nonzero(gt_mask))

    def counts(pred, n_pred_pixels):
        tp = int(np.count_nonzero(pred & gt_mask))
        match = match_components(
            label_components(pred.view(np.uint8)), gt_comp, distance,
            matching)
        return (tp, n_pred_pixels - tp, n_gt_pixels - tp, match.num_pred,
                match.num_matched) + _false_alarms(match, fa_area_dedup)

    rule = rule or DecisionRule()
    pred = rule.apply(scores, from_logits)
    tp, fp, fn, n_pred, n_matched, fa_pixels, fa_objects = counts(
        pred, int(np.count_nonzero(pred)))
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
        stats['curve'] = _curve_counts(
            scores, gt_mask, gt_comp, rule,
            normalize_thresholds(curve_thresholds), from_logits, distance,
            matching, fa_area_dedup)
    return stats


def _curve_counts(scores, gt_mask, gt_comp, rule, thresholds, from_logits,
                  distance, matching, fa_area_dedup) -> np.ndarray:
    """The ``curve`` rows of :func:`image_statistics`.

    Thresholded maps at increasing thresholds are nested, so all of them
    lie inside the candidates at the lowest threshold: the sweep works in
    the bounding box of those and of the targets (a window; components,
    pixel counts and centroids are the image's, see
    :func:`_label_components`), an unchanged pixel count means an unchanged
    map whose counts are reused, and once a map is empty all higher
    thresholds give the same (empty) row.
    """
    shape = gt_mask.shape
    window = binarize(scores, thresholds[0], from_logits)
    window |= gt_mask
    x0, y0, w, h = cv2.boundingRect(window.view(np.uint8))
    if w == 0:  # no candidate, no target: the whole (empty) image
        x0, y0, (h, w) = 0, 0, shape
    region = (slice(y0, y0 + h), slice(x0, x0 + w))
    scores, gt_mask = scores[region], gt_mask[region]
    n_gt_pixels = int(np.count_nonzero(gt_mask))

    def counts(pred):
        n_pred_pixels = int(np.count_nonzero(pred))
        tp = int(np.count_nonzero(pred & gt_mask))
        match = match_components(
            _label_components(pred.view(np.uint8), (y0, x0), shape), gt_comp,
            distance,
            matching)
        return (tp, n_pred_pixels - tp, n_gt_pixels - tp, match.num_pred,
                match.num_matched) + _false_alarms(match, fa_area_dedup)

    rows, last_size = [], -1
    for thr in thresholds:
        candidates = binarize(scores, thr, from_logits)
        size = int(np.count_nonzero(candidates))
        if size != last_size:
            row = counts(rule.select(candidates, scores, from_logits))
            last_size = size
        rows.append(row)
        if size == 0:
            rows.extend([row] * (len(thresholds) - len(rows)))
            break
    return np.array(rows, dtype=np.int64).reshape(len(thresholds), -1)
