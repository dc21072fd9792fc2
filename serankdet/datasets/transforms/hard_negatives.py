"""Crops centred where the model fires on target-free frames.

:class:`~serankdet.engine.hooks.HardNegativeMiningHook` runs the model on
the target-free training frames every few iterations and writes where it
fires (:func:`write_hard_negatives`); :class:`HardNegativeRandomCrop`, in
the training pipeline (any data-loader worker), reads the file again
whenever it changes and centres a share of its crops on those points.
"""
import json
import os
from typing import Dict, List, Optional, Tuple

import numpy as np
from mmcv.transforms.utils import cache_randomness

from serankdet.registry import TRANSFORMS
from ..image_io import write_file
from .processing import TargetBiasedRandomCrop

# image path -> false-alarm centroids (row, column) in native pixels
HardNegatives = Dict[str, List[Tuple[int, int]]]


def write_hard_negatives(path: str, points: HardNegatives) -> None:
    """Write ``points`` as JSON to ``path``, atomically (a reader sees the
    old file or the new one)."""
    write_file(path, json.dumps(
        {img: [list(map(int, p)) for p in pts]
         for img, pts in points.items()}).encode())


def read_hard_negatives(path: str) -> HardNegatives:
    """The points :func:`write_hard_negatives` wrote; {} without file."""
    try:
        with open(path, encoding='utf-8') as f:
            return {img: [tuple(p) for p in pts]
                    for img, pts in json.load(f).items()}
    except FileNotFoundError:
        return {}


@TRANSFORMS.register_module()
class HardNegativeRandomCrop(TargetBiasedRandomCrop):
    """:class:`TargetBiasedRandomCrop`, centred on a mined false alarm of
    the frame with probability ``hard_negative_prob``.

    When ``points_file`` (written by
    :class:`~serankdet.engine.hooks.HardNegativeMiningHook`) lists points
    (row, column) for the frame's ``img_path``, one of them is drawn
    uniformly with probability ``hard_negative_prob`` and the crop is
    centred on it (its top-left corner ``(y - h // 2, x - w // 2)``,
    clipped to the frame); otherwise, and for frames without points, the
    crop follows ``rule`` and ``target_prob`` as
    :class:`TargetBiasedRandomCrop`. Points are native-frame coordinates:
    place this crop before any transform that moves pixels other than
    bottom/right padding. The file is read again when its modification
    time or size changes (one ``os.stat`` per crop); without the file no
    crop is centred on a point.

    Args:
        crop_size (tuple[int, int]): (h, w) of the crop.
        points_file (str): the JSON file of the mining hook.
        hard_negative_prob (float): share of the crops of a frame with
            points that are centred on one.
        target_prob (float): see :class:`TargetBiasedRandomCrop`.
        rule (str): see :class:`TargetBiasedRandomCrop`.
    """

    def __init__(self, crop_size: Tuple[int, int], points_file: str,
                 hard_negative_prob: float = 0.5, target_prob: float = 0.5,
                 rule: str = 'around_pixel') -> None:
        super().__init__(crop_size, target_prob, rule)
        if not 0 <= hard_negative_prob <= 1:
            raise ValueError('hard_negative_prob must be in [0, 1], got '
                             f'{hard_negative_prob}')
        self.points_file = points_file
        self.hard_negative_prob = hard_negative_prob
        self._file_state: Optional[Tuple[int, int]] = None
        self._points: HardNegatives = {}

    def points(self) -> HardNegatives:
        """The points of ``points_file``, read again when it changed."""
        try:
            stat = os.stat(self.points_file)
            state = (stat.st_mtime_ns, stat.st_size)
        except FileNotFoundError:
            state = None
        if state != self._file_state:
            self._points = read_hard_negatives(self.points_file)
            self._file_state = state
        return self._points

    @cache_randomness
    def _hard_negative(self, img_path: str) -> Optional[Tuple[int, int]]:
        """A point of the frame to centre the crop on, or None."""
        candidates = self.points().get(img_path)
        if not candidates or np.random.rand() >= self.hard_negative_prob:
            return None
        return candidates[np.random.randint(len(candidates))]

    def _corner(self, results: dict) -> Tuple[int, int]:
        point = self._hard_negative(results['img_path'])
        if point is None:
            return super()._corner(results)
        (crop_h, crop_w), (height, width) = (self.crop_size,
                                             results['img'].shape[:2])
        return (min(max(point[0] - crop_h // 2, 0), height - crop_h),
                min(max(point[1] - crop_w // 2, 0), width - crop_w))

    def __repr__(self) -> str:
        return (f'{super().__repr__()[:-1]}, points_file='
                f'{self.points_file!r}, hard_negative_prob='
                f'{self.hard_negative_prob})')
