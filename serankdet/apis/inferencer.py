"""Detection on whole folders of frames: masks, probabilities, target lists.

:class:`IRSTDInferencer` wraps a model built from a config and checkpoint
and runs it on paths or arrays of any size and bit depth, in batches,
optionally with sliding-window (tiled) inference for large frames. Each
frame gives a :class:`FrameResult`: the binary mask, the target probability
map and the list of detected targets (:class:`Target`, one per 8-connected
component of the mask, as the metrics count them).
"""
import glob
import os.path as osp
from dataclasses import dataclass, field
from typing import (Iterable, Iterator, List, Optional, Sequence, Tuple,
                    Union)

import cv2
import numpy as np
import torch
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmengine.runner.amp import autocast
from scipy import ndimage

from serankdet.datasets.image_io import IMG_EXTENSIONS, InvalidSampleError
from serankdet.evaluation.functional import binarize, label_components
from serankdet.utils import warn_if_bfloat16_emulated
from .inference import _inference_pipeline, init_model

ImageInput = Union[str, np.ndarray]
#: Errors that mean "this frame cannot be read"; the frame is reported and
#: the others go on (anything else is a bug and propagates).
READ_ERRORS = (OSError, InvalidSampleError, cv2.error)


@dataclass
class Target:
    """One detected target (an 8-connected component of the mask).

    Attributes:
        centroid (tuple[float, float]): (x, y) mean pixel position, pixel
            centres at integer coordinates.
        bbox (tuple[int, int, int, int]): (x, y, w, h) of the bounding box,
            (x, y) its top-left pixel.
        area (int): pixels in the component.
        peak_score (float): highest target probability in the component.
        mean_score (float): mean target probability over its pixels.
    """
    centroid: Tuple[float, float]
    bbox: Tuple[int, int, int, int]
    area: int
    peak_score: float
    mean_score: float

    def to_dict(self) -> dict:
        """JSON-ready dict with the attribute names as keys."""
        return dict(centroid=list(self.centroid), bbox=list(self.bbox),
                    area=self.area, peak_score=self.peak_score,
                    mean_score=self.mean_score)


@dataclass
class FrameResult:
    """What the detector found in one frame.

    Attributes:
        mask (np.ndarray): (H, W) bool, ``probabilities > threshold``
            (evaluated on the logits, exactly).
        probabilities (np.ndarray): (H, W) float32 target probability
            (sigmoid of the main logits) at the frame's size.
        targets (list[Target]): components of ``mask``, in raster order of
            their first pixel.
        image (np.ndarray): (H, W) the gray frame as the model read it, at
            native depth (for display).
        max_value (float): full-scale value of ``image`` (255, 65535, 1.0).
        source (str, optional): the file path, None for arrays.
    """
    mask: np.ndarray
    probabilities: np.ndarray
    targets: List[Target]
    image: np.ndarray = field(repr=False)
    max_value: float = 255.0
    source: Optional[str] = None


def extract_targets(probabilities: np.ndarray,
                    mask: np.ndarray) -> List[Target]:
    """List the 8-connected components of ``mask`` with their scores.

    Args:
        probabilities (np.ndarray): (H, W) target probabilities.
        mask (np.ndarray): (H, W) binary mask, non-zero = target.

    Returns:
        list[Target]: one entry per component, in the numbering of
        :func:`~serankdet.evaluation.functional.label_components` (raster
        order of the first pixel).
    """
    comps = label_components(mask)
    if comps.num == 0:
        return []
    # Scores are reduced on the foreground's bounding box only: the labels
    # of the whole frame are never built.
    (y0, x0), (h, w) = comps.offset, comps.crop_labels.shape
    crop = np.asarray(probabilities, dtype=np.float64)[y0:y0 + h, x0:x0 + w]
    index = np.arange(1, comps.num + 1)
    peaks = ndimage.maximum(crop, comps.crop_labels, index)
    sums = ndimage.sum_labels(crop, comps.crop_labels, index)
    targets = []
    for k in range(comps.num):
        left, top, width, height, area = (int(v) for v in comps.stats[k])
        row, col = comps.centroids[k]
        targets.append(Target(
            centroid=(float(col), float(row)),
            bbox=(left, top, width, height),
            area=area,
            peak_score=float(peaks[k]),
            mean_score=float(sums[k] / area)))
    return targets


def list_images(spec: str) -> List[str]:
    """Image files named by ``spec``: a file, a folder or a glob pattern.

    Folders are searched recursively for the extensions of
    :data:`~serankdet.datasets.image_io.IMG_EXTENSIONS` (any case); globs
    may use ``**``. A file is taken whatever its extension. The list is
    sorted.

    Raises:
        FileNotFoundError: nothing matches ``spec``.
    """
    if osp.isfile(spec):
        return [spec]
    if osp.isdir(spec):
        paths = glob.glob(osp.join(glob.escape(spec), '**', '*'),
                          recursive=True)
    else:
        paths = glob.glob(spec, recursive=True)
    paths = sorted(p for p in paths if osp.isfile(p)
                   and p.lower().endswith(IMG_EXTENSIONS))
    if not paths:
        raise FileNotFoundError(
            f'no image ({", ".join(IMG_EXTENSIONS)}) found at "{spec}": '
            'give an image file, a folder or a glob pattern')
    return paths


def tile_test_cfg(tile: Union[int, Sequence[int]],
                  overlap: Union[int, float],
                  size_divisor: Optional[int] = None) -> dict:
    """A ``test_cfg`` for :meth:`IRSTDSegmentor.slide_inference`.

    Windows of ``tile`` (h, w) move by ``tile - overlap``, rounded down to
    a multiple of the network stride ``size_divisor`` so that every window
    sees the same pooling grid as the whole frame: for a translation
    invariant network the tiled logits then equal the whole-frame logits at
    every pixel further than the receptive field from a window edge inside
    the frame (logits are averaged where windows overlap).

    Args:
        tile (int | Sequence[int]): window size (h, w), or one int for both;
            multiples of ``size_divisor``.
        overlap (int | float): overlap of neighbouring windows, in pixels
            (int >= 0) or as a fraction of the tile (float in [0, 1)).
        size_divisor (int, optional): the data preprocessor's size divisor.

    Raises:
        ValueError: a tile not divisible by ``size_divisor`` or an overlap
            that leaves no stride.
    """
    tile = (tile, tile) if isinstance(tile, (int, np.integer)) else tile
    tile = tuple(int(t) for t in tile)
    div = int(size_divisor or 1)
    if len(tile) != 2 or min(tile) < 1 or any(t % div for t in tile):
        raise ValueError(
            f'tile must be (h, w) with positive multiples of the model\'s '
            f'size_divisor {div}, got {tile}')
    if isinstance(overlap, float) and not overlap.is_integer():
        if not 0.0 <= overlap < 1.0:
            raise ValueError(f'overlap as a fraction must be in [0, 1), got '
                             f'{overlap}')
        overlaps = [round(overlap * t) for t in tile]
    else:
        overlaps = [int(overlap)] * 2
    strides = []
    for size, over in zip(tile, overlaps):
        stride = (size - over) // div * div
        if over < 0 or stride < div:
            raise ValueError(
                f'overlap {overlap} leaves no stride for tile {tile} (the '
                f'stride must be at least the size_divisor {div})')
        strides.append(stride)
    return dict(mode='slide', crop_size=tile, stride=tuple(strides))


class IRSTDInferencer:
    """Run an IRSTD model on frames and list the targets it finds.

    Frames are read like the test set (native bit depth, colour and alpha
    reduced to gray) by the config's test pipeline without annotations.
    Consecutive frames whose padded size is the same are batched together,
    so a frame's result never depends on its neighbours.

    Example:
        >>> inferencer = IRSTDInferencer('configs/unet/unet_...py',
        ...                              'work_dirs/x/best.pth')
        >>> result = inferencer('frame.png')
        >>> [t.centroid for t in result.targets]

    Args:
        config (str | Config): the model's config.
        checkpoint (str, optional): weights (None: random initialisation,
            for timing only).
        device (str): e.g. 'cpu', 'cuda:0'.
        threshold (float, optional): probability threshold; defaults to the
            head's ``threshold``.
        tile (int | Sequence[int], optional): sliding-window size (h, w);
            None keeps the config's ``test_cfg`` (usually whole frames).
        overlap (int | float): window overlap, pixels or a tile fraction
            (see :func:`tile_test_cfg`).
        batch_size (int): frames per forward pass.
        cfg_options (dict, optional): config overrides.
        amp (bool): run the model under autocast (float16 on a GPU,
            bfloat16 on a CPU); the logits are returned as float32.
    """

    def __init__(self,
                 config: Union[str, Config],
                 checkpoint: Optional[str] = None,
                 device: str = 'cpu',
                 threshold: Optional[float] = None,
                 tile: Union[None, int, Sequence[int]] = None,
                 overlap: Union[int, float] = 0.25,
                 batch_size: int = 1,
                 cfg_options: Optional[dict] = None,
                 amp: bool = False):
        if batch_size < 1:
            raise ValueError(f'batch_size must be >= 1, got {batch_size}')
        self.model = init_model(config, checkpoint, device, cfg_options)
        self.cfg = self.model.cfg
        if tile is not None:
            self.model.test_cfg = tile_test_cfg(
                tile, overlap, self.model.data_preprocessor.size_divisor)
        head_threshold = self.model.decode_head.threshold
        self.threshold = float(
            head_threshold if threshold is None else threshold)
        if not 0.0 < self.threshold < 1.0:
            raise ValueError(f'threshold is a probability in (0, 1), got '
                             f'{self.threshold}')
        self.batch_size = batch_size
        self.pipeline = _inference_pipeline(self.cfg)
        self.device_type = next(self.model.parameters()).device.type
        self.amp = amp
        if amp:
            warn_if_bfloat16_emulated(self.device_type)

    def __call__(self, inputs: Union[ImageInput, Sequence[ImageInput]]
                 ) -> Union[FrameResult, List[FrameResult]]:
        """Results for one frame, or a list for a list (or a folder/glob).

        Args:
            inputs: a path, a folder, a glob, an (H, W[, C]) array (colour in
                OpenCV's BGR(A) order), or a list of paths/arrays.

        Raises:
            FileNotFoundError / InvalidSampleError: a frame cannot be read,
            or the model's error on a frame (use :meth:`stream` to go on
            past failing frames).
        """
        single = isinstance(inputs, np.ndarray) or (
            isinstance(inputs, str) and osp.isfile(inputs))
        results = []
        for _, result in self.stream(inputs):
            if isinstance(result, Exception):
                raise result
            results.append(result)
        return results[0] if single else results

    def stream(self, inputs: Union[ImageInput, Iterable[ImageInput]]
               ) -> Iterator[Tuple[ImageInput, Union[FrameResult,
                                                     Exception]]]:
        """Yield ``(input, result)`` per frame, in input order.

        A frame that cannot be read (file missing, corrupt, unsupported
        pixel type) or that the model fails on yields its exception instead
        of a result; the others are processed as usual.
        """
        if isinstance(inputs, np.ndarray):
            inputs = [inputs]
        elif isinstance(inputs, str):
            inputs = list_images(inputs)
        batch: List[Tuple[ImageInput, dict]] = []
        for item in inputs:
            try:
                packed = self.pipeline(
                    dict(img=item) if isinstance(item, np.ndarray) else
                    dict(img_path=item))
            except READ_ERRORS as err:
                yield from self._run(batch)
                batch = []
                yield item, err
                continue
            if batch and (len(batch) == self.batch_size
                          or self._padded_shape(packed) !=
                          self._padded_shape(batch[0][1])):
                yield from self._run(batch)
                batch = []
            batch.append((item, packed))
        yield from self._run(batch)

    def _padded_shape(self, packed: dict) -> Tuple[int, int]:
        div = self.model.data_preprocessor.size_divisor or 1
        return tuple(-(-s // div) * div for s in packed['inputs'].shape[-2:])

    @torch.no_grad()
    def _run(self, batch: List[Tuple[ImageInput, dict]]):
        """Yield ``(input, FrameResult)`` per frame of ``batch``; a frame
        the model fails on yields its exception (a failing batch is rerun
        frame by frame, so only the failing frames are reported)."""
        if not batch:
            return
        try:
            with autocast(device_type=self.device_type, enabled=self.amp):
                samples = self.model.test_step(pseudo_collate(
                    [packed for _, packed in batch]))
        except Exception as err:  # reported per frame; the others go on
            if len(batch) == 1:
                yield batch[0][0], err
            else:
                for frame in batch:
                    yield from self._run([frame])
            return
        for (item, packed), sample in zip(batch, samples):
            logits = sample.seg_logits.data[0].float().cpu().numpy()
            probs = torch.from_numpy(logits).sigmoid().numpy()
            mask = binarize(logits, self.threshold, from_logits=True)
            image = packed['inputs'][0].numpy()
            if image.shape != mask.shape:
                # test pipelines that resize: show the frame at its size
                image = cv2.resize(image, mask.shape[::-1],
                                   interpolation=cv2.INTER_AREA)
            yield item, FrameResult(
                mask=mask,
                probabilities=probs,
                targets=extract_targets(probs, mask),
                image=image,
                max_value=float(sample.metainfo.get('img_max_value', 255.0)),
                source=None if isinstance(item, np.ndarray) else item)
