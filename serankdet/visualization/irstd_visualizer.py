"""Panels of image, ground truth and prediction with detections colored."""
from typing import Optional

import cv2
import numpy as np
from mmengine.visualization import Visualizer

from serankdet.evaluation.functional import match_targets
from serankdet.registry import VISUALIZERS

HIT = (0, 200, 0)          # predicted component matched to a target (RGB)
FALSE_ALARM = (230, 30, 30)  # predicted component matched to nothing
MISS = (40, 90, 255)       # target no predicted component matched


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


@VISUALIZERS.register_module()
class IRSTDVisualizer(Visualizer):
    """Draws IRSTD results as three panels side by side.

    ``image | ground truth | prediction``: the prediction panel shows the
    frame dimmed, predicted components matched to a target in green, false
    alarms in red and missed targets (their ground-truth pixels) in blue,
    matched as the metric matches (8-connectivity, centroid distance below
    ``distance`` px, ``matching`` assignment; :class:`IRSTDVisualizationHook`
    passes the test metric's settings).
    """

    def draw_panel(self, image: np.ndarray, gt_mask: Optional[np.ndarray],
                   pred_mask: np.ndarray, distance: float = 3.0,
                   max_value: Optional[float] = None,
                   matching: str = 'hungarian') -> np.ndarray:
        """Return the (H, 3W + 2 gaps, 3) uint8 RGB panel.

        Args:
            image: (H, W) or (C, H, W) frame at native depth.
            gt_mask: (H, W) ground truth (non-zero = target) or None.
            pred_mask: (H, W) binary prediction.
            distance, matching: the metric's matching rule
                (:func:`serankdet.evaluation.functional.match_targets`).
        """
        gray = to_uint8_gray(image, max_value)
        rgb = np.repeat(gray[..., None], 3, axis=2)
        pred = np.asarray(pred_mask).squeeze() != 0
        if gt_mask is None:
            gt_panel = np.zeros_like(rgb)
            result = (rgb // 2).copy()
            result[pred] = FALSE_ALARM
        else:
            gt = np.asarray(gt_mask).squeeze() != 0
            gt_panel = np.repeat((gt * 255).astype(np.uint8)[..., None], 3,
                                 axis=2)
            match = match_targets(pred, gt, distance, matching)
            result = (rgb // 2).copy()
            result[match.missed_mask()] = MISS
            result[pred] = HIT
            result[match.false_alarm_mask()] = FALSE_ALARM
        gap = np.full((rgb.shape[0], 2, 3), 128, np.uint8)
        return np.concatenate([rgb, gap, gt_panel, gap, result], axis=1)

    def add_datasample(self, name: str, image: np.ndarray, data_sample=None,
                       draw_gt: bool = True, draw_pred: bool = True,
                       show: bool = False, wait_time: float = 0.5,
                       out_file: Optional[str] = None, step: int = 0,
                       max_value: Optional[float] = None,
                       distance: float = 3.0,
                       matching: str = 'hungarian') -> np.ndarray:
        """Draw the panel of one sample; show, save or log it.

        ``wait_time`` is clamped above 0: a zero wait blocks forever on a
        headless backend.
        """
        gt = (data_sample.gt_sem_seg.data.cpu().numpy()
              if draw_gt and 'gt_sem_seg' in data_sample else None)
        pred = data_sample.pred_sem_seg.data.cpu().numpy()
        if gt is not None and gt.shape[-2:] != pred.shape[-2:]:
            gt = None  # training-size masks of a resized protocol
        panel = self.draw_panel(image, gt, pred if draw_pred else
                                np.zeros_like(pred), distance=distance,
                                max_value=max_value, matching=matching)
        if show:
            self.show(panel, win_name=name, wait_time=max(wait_time, 0.01))
        if out_file is not None:
            cv2.imwrite(out_file, panel[..., ::-1])
        else:
            self.add_image(name, panel, step)
        return panel
