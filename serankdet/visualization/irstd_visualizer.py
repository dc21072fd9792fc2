"""Panels of image, ground truth and prediction with detections colored."""
from typing import Optional

import cv2
import numpy as np
from mmengine.visualization import Visualizer

from serankdet.datasets.image_io import imwrite
from serankdet.evaluation.functional import label_components, match_targets
from serankdet.registry import VISUALIZERS

HIT = (0, 200, 0)          # predicted component matched to a target (RGB)
FALSE_ALARM = (230, 30, 30)  # predicted component matched to nothing
MISS = (40, 90, 255)       # target no predicted component matched
TARGET = (255, 200, 0)     # target of a sample without prediction


def to_uint8_gray(image: np.ndarray, max_value: Optional[float] = None):
    """Display version of a native-depth frame: (H, W) uint8.

    Frames are divided by ``max_value`` (their bit depth's maximum); frames
    that then use less than a quarter of the range (e.g. 12-bit data in
    16-bit files) are stretched from min to max so they stay visible.
    """
    image = np.asarray(image, dtype=np.float64)
    if image.ndim == 3:
        image = image.mean(axis=0 if image.shape[0] in (1, 3) else -1)
    scale = max_value or (255.0 if image.max(initial=0) <= 255 else 65535.0)
    image = image / scale
    if not image.size:
        return image.astype(np.uint8)
    low, high = image.min(), image.max()
    if high - low < 0.25 and high > low:
        image = (image - low) / (high - low)
    return np.clip(image * 255 + 0.5, 0, 255).astype(np.uint8)


#: Frames are enlarged (integer factor, nearest neighbour: pixels stay
#: square) until their longer side reaches this, so 2-6 px targets show.
DISPLAY_SIDE = 384
LEGEND_HEIGHT = 22
GAP = 2


def display_scale(height: int, width: int,
                  display_side: int = DISPLAY_SIDE) -> int:
    """Integer enlargement that brings the longer side to ``display_side``
    (1 for frames that large already, or ``display_side`` 0)."""
    return max(1, -(-display_side // max(height, width)))


def enlarge(image: np.ndarray, scale: int) -> np.ndarray:
    """Nearest-neighbour enlargement of (H, W, ...) by ``scale``: each pixel
    becomes a ``scale`` x ``scale`` block."""
    return np.repeat(np.repeat(image, scale, axis=0), scale, axis=1)


def ring_radius(stats_row: np.ndarray, scale: int) -> int:
    """Ring radius around a component: its half-diagonal plus a margin, in
    display pixels, at least 10 so a one-pixel target gets a visible ring."""
    half_diag = 0.5 * float(np.hypot(stats_row[cv2.CC_STAT_WIDTH],
                                     stats_row[cv2.CC_STAT_HEIGHT]))
    return max(10, int(round(scale * half_diag)) + 6)


def draw_rings(panel: np.ndarray, components, labels, colour,
               scale: int) -> None:
    """A ring of ``colour`` around each component of ``labels`` (1-based),
    drawn in place on the enlarged ``panel``."""
    thickness = 2 if scale >= 3 else 1
    for label in labels:
        row, col = components.centroids[label - 1]
        centre = (int(round((col + 0.5) * scale)),
                  int(round((row + 0.5) * scale)))
        cv2.circle(panel, centre,
                   ring_radius(components.stats[label - 1], scale), colour,
                   thickness, lineType=cv2.LINE_8)


def legend_strip(width: int, entries) -> np.ndarray:
    """(LEGEND_HEIGHT, width, 3) strip: a coloured square and a label per
    ``(colour or None, text)`` entry, left to right."""
    strip = np.full((LEGEND_HEIGHT, width, 3), 24, np.uint8)
    x = 6
    for colour, text in entries:
        if colour is not None:
            cv2.rectangle(strip, (x, 6), (x + 9, 15), colour, -1)
            x += 14
        cv2.putText(strip, text, (x, 15), cv2.FONT_HERSHEY_SIMPLEX, 0.4,
                    (235, 235, 235), 1, cv2.LINE_AA)
        x += cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, 0.4,
                             1)[0][0] + 12
    return strip


def _mask_panel(mask: np.ndarray) -> np.ndarray:
    """(H, W, 3) white-on-black picture of a boolean mask."""
    return np.repeat((mask * 255).astype(np.uint8)[..., None], 3, axis=2)


def _join(panels, legend) -> np.ndarray:
    """Equal-height panels side by side with gray gaps, the legend below."""
    gap = np.full((panels[0].shape[0], GAP, 3), 128, np.uint8)
    row = np.concatenate(
        [part for panel in panels for part in (gap, panel)][1:], axis=1)
    return np.concatenate([row, legend_strip(row.shape[1], legend)], axis=0)


@VISUALIZERS.register_module()
class IRSTDVisualizer(Visualizer):
    """Draws IRSTD results as three panels side by side, with a legend.

    ``image | ground truth | prediction``: the prediction panel shows the
    frame dimmed, predicted components matched to a target in green, false
    alarms in red and missed targets (their ground-truth pixels) in blue,
    each also circled in its colour so that few-pixel targets stay visible;
    matched as the metric matches (8-connectivity, centroid distance below
    ``distance`` px, ``matching`` assignment; :class:`IRSTDVisualizationHook`
    passes the test metric's settings). Frames smaller than
    :data:`DISPLAY_SIDE` are enlarged by an integer factor. The legend
    under the panels counts hits, misses and false alarms and gives the
    image's IoU.
    """

    def draw_panel(self, image: np.ndarray, gt_mask: Optional[np.ndarray],
                   pred_mask: Optional[np.ndarray], distance: float = 3.0,
                   max_value: Optional[float] = None,
                   matching: str = 'hungarian',
                   display_side: int = DISPLAY_SIDE) -> np.ndarray:
        """Return the (s*H + LEGEND_HEIGHT, 3*s*W + 2*GAP, 3) uint8 RGB
        panel, ``s`` the enlargement factor (1 when ``display_side`` is 0
        or the frame is large enough). Without ``pred_mask`` (a sample as
        the pipeline gives it to the model): ``image | ground truth``, the
        targets circled on the frame and counted in the legend.

        Args:
            image: (H, W) or (C, H, W) frame at native depth.
            gt_mask: (H, W) ground truth (non-zero = target) or None.
            pred_mask: (H, W) binary prediction or None.
            distance, matching: the metric's matching rule
                (:func:`serankdet.evaluation.functional.match_targets`).
            display_side: enlarge until the longer side reaches this.
        """
        gray = to_uint8_gray(image, max_value)
        rgb = np.repeat(gray[..., None], 3, axis=2)
        height, width = gray.shape
        scale = display_scale(height, width, display_side)
        if pred_mask is None:
            return self._draw_targets(rgb, gt_mask, scale)
        pred = np.asarray(pred_mask).squeeze() != 0

        result = (rgb // 2).copy()
        if gt_mask is None:
            gt_panel = np.zeros_like(rgb)
            result[pred] = FALSE_ALARM
            match = match_targets(pred, np.zeros_like(pred), distance,
                                  matching)
            legend = [(FALSE_ALARM, f'predicted {match.num_pred}'),
                      (None, 'no ground truth')]
        else:
            gt = np.asarray(gt_mask).squeeze() != 0
            gt_panel = _mask_panel(gt)
            match = match_targets(pred, gt, distance, matching)
            result[match.missed_mask()] = MISS
            result[pred] = HIT
            result[match.false_alarm_mask()] = FALSE_ALARM
            union = np.logical_or(pred, gt).sum()
            iou = np.logical_and(pred, gt).sum() / union if union else 1.0
            legend = [(HIT, f'hit {match.num_matched}/{match.num_gt}'),
                      (MISS, f'miss {len(match.missed)}'),
                      (FALSE_ALARM, f'false alarm {match.fa_objects}'),
                      (None, f'IoU {iou:.2f}')]
        result = enlarge(result, scale)
        draw_rings(result, match.pred, match.pairs[:, 1], HIT, scale)
        draw_rings(result, match.gt, match.missed, MISS, scale)
        draw_rings(result, match.pred, match.false_alarms, FALSE_ALARM,
                    scale)
        return _join([enlarge(rgb, scale), enlarge(gt_panel, scale), result],
                     legend)

    @staticmethod
    def _draw_targets(rgb: np.ndarray, gt_mask: Optional[np.ndarray],
                      scale: int) -> np.ndarray:
        """``image | ground truth`` of a sample without prediction."""
        height, width = rgb.shape[:2]
        gt = (np.zeros((height, width), bool) if gt_mask is None else
              np.asarray(gt_mask).squeeze() != 0)
        targets = label_components(gt)
        frame = enlarge(rgb, scale)
        draw_rings(frame, targets, range(1, targets.num + 1), TARGET, scale)
        legend = [(TARGET, f'targets {targets.num}'),
                  (None, f'{width}x{height}' if gt_mask is not None else
                   f'{width}x{height}, no ground truth')]
        return _join([frame, enlarge(_mask_panel(gt), scale)], legend)

    def add_datasample(self, name: str, image: np.ndarray, data_sample=None,
                       draw_gt: bool = True, draw_pred: bool = True,
                       show: bool = False, wait_time: float = 0.5,
                       out_file: Optional[str] = None, step: int = 0,
                       max_value: Optional[float] = None,
                       distance: float = 3.0,
                       matching: str = 'hungarian') -> np.ndarray:
        """Draw the panel of one sample; show, save or log it. A sample
        without ``pred_sem_seg`` (as the pipeline gives it) is drawn as
        ``image | ground truth``.

        ``wait_time`` is clamped above 0: a zero wait blocks forever on a
        headless backend.
        """
        gt = (data_sample.gt_sem_seg.data.cpu().numpy()
              if draw_gt and 'gt_sem_seg' in data_sample else None)
        pred = None  # a sample from the pipeline (browse_dataset)
        if 'pred_sem_seg' in data_sample:
            pred = data_sample.pred_sem_seg.data.cpu().numpy()
            if not draw_pred:
                pred = np.zeros_like(pred)
            if gt is not None and gt.shape[-2:] != pred.shape[-2:]:
                gt = None  # training-size masks of a resized protocol
        panel = self.draw_panel(image, gt, pred, distance=distance,
                                max_value=max_value, matching=matching)
        if show:
            self.show(panel, win_name=name, wait_time=max(wait_time, 0.01))
        if out_file is not None:
            imwrite(out_file, panel[..., ::-1])
        else:
            self.add_image(name, panel, step)
        return panel
