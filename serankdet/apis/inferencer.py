"""Detection on whole folders of frames: masks, probabilities, target lists.

:class:`IRSTDInferencer` is mmengine's :class:`~mmengine.infer.BaseInferencer`
for IRSTD models, as ``MMSegInferencer`` is for mmseg's: built from a config
(path, :class:`Config` or dict) and a checkpoint, or from the
``INFERENCERS`` registry. It runs on paths or arrays of any size and bit
depth, in batches, optionally with sliding-window (tiled) inference; frames
larger than the model takes in one pass, or whose pass would need more than
``model.test_cfg.max_memory``, run in sliding windows by themselves
(:meth:`IRSTDSegmentor.auto_slide_cfg`). Each frame gives a
:class:`FrameResult`: the binary mask, the target probability map and the
list of detected targets (:class:`Target`, one per 8-connected component of
the mask, as the metrics count them).
"""
import copy
import fnmatch
import glob
import logging
import os
import os.path as osp
import stat
from dataclasses import dataclass, field
from typing import (Dict, Iterable, Iterator, List, Optional, Sequence,
                    Tuple, Union)

import cv2
import numpy as np
import torch
from mmengine.config import Config, ConfigDict
from mmengine.dataset import Compose, pseudo_collate
from mmengine.infer import BaseInferencer
from mmengine.logging import print_log
from mmengine.runner.amp import autocast
from mmengine.runner.checkpoint import load_state_dict
from rich.progress import track
from scipy import ndimage

from serankdet.datasets.image_io import (IMG_EXTENSIONS, InvalidSampleError,
                                         imwrite)
from serankdet.evaluation.calibration import apply_calibration, rule_options
from serankdet.evaluation.functional import DecisionRule, label_components
from serankdet.registry import INFERENCERS, MODELS
from serankdet.utils import (check_state_dict, describe_cpu_threads,
                             load_checkpoint_file, output_names,
                             warn_if_bfloat16_emulated)
from serankdet.visualization.irstd_visualizer import (DISPLAY_SIDE, HIT,
                                                       display_scale,
                                                       draw_rings, enlarge,
                                                       legend_strip,
                                                       to_uint8_gray)
from .backends import (ONNXRuntimeNetwork, apply_onnx_rule, check_backend,
                       use_onnx_backend)
from .inference import _ANNOTATION_TRANSFORMS
from .model_zoo import find_zoo_model, resolve_checkpoint, resolve_model
from .setup_env import register_all_modules
from .video import Prefetcher, VideoFrame

ImageInput = Union[str, np.ndarray, VideoFrame]
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
        mask (np.ndarray): (H, W) bool, the mask of the model's decision
            rule (``probabilities > threshold``, evaluated on the logits
            exactly, then the rule's optional area bounds and hysteresis).
        probabilities (np.ndarray): (H, W) float32 target probability
            (sigmoid of the main logits) at the frame's size.
        targets (list[Target]): components of ``mask``, in raster order of
            their first pixel.
        image (np.ndarray): the frame as the model read it, at native
            depth (for display): (H, W) gray, or (H, W, 3) RGB for models
            that load colour.
        max_value (float): full-scale value of ``image`` (255, 65535, 1.0).
        source (str, optional): the file path, None for arrays.
        visualization (np.ndarray, optional): (H, W, 3) uint8 RGB overlay of
            :func:`draw_overlay`, when asked for with ``return_vis=True``.
    """
    mask: np.ndarray
    probabilities: np.ndarray
    targets: List[Target]
    image: np.ndarray = field(repr=False)
    max_value: float = 255.0
    source: Optional[str] = None
    visualization: Optional[np.ndarray] = field(default=None, repr=False)


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


def draw_overlay(image: np.ndarray, mask: np.ndarray,
                 max_value: Optional[float] = None,
                 display_side: int = DISPLAY_SIDE) -> np.ndarray:
    """The frame in gray with target pixels green, each target circled and
    a legend with the count, drawn as the test panels are.

    Frames whose longer side is under ``display_side`` are enlarged by an
    integer factor ``s`` (nearest neighbour) so that few-pixel targets show.

    Args:
        image (np.ndarray): (H, W) frame at native depth.
        mask (np.ndarray): (H, W) binary mask, non-zero = target.
        max_value (float, optional): full-scale value of ``image``.
        display_side (int): enlarge up to this side (0: native size).

    Returns:
        np.ndarray: (s*H + LEGEND_HEIGHT, s*W, 3) uint8 RGB.
    """
    gray = to_uint8_gray(image, max_value)
    rgb = np.repeat(gray[..., None], 3, axis=2)
    mask = np.asarray(mask) != 0
    rgb[mask] = HIT
    scale = display_scale(*mask.shape, display_side)
    rgb = enlarge(rgb, scale)
    components = label_components(mask)
    draw_rings(rgb, components, range(1, components.num + 1), HIT, scale)
    legend = legend_strip(rgb.shape[1], [(HIT, f'targets {components.num}')])
    return np.concatenate([rgb, legend], axis=0)


@dataclass
class ImageListing:
    """What :func:`find_images` found.

    Attributes:
        paths (list[str]): the image files, sorted.
        skipped (list[tuple[str, str]]): ``(path, reason)`` of each entry
            passed over: an entry named like an image that is not a regular
            file (a folder, a FIFO, a device, a dangling link), a folder
            reached again through a link (symbolic link loops), an excluded
            folder, a folder that cannot be listed.
    """
    paths: List[str]
    skipped: List[Tuple[str, str]]


def _take_image(path: str, listing: ImageListing) -> None:
    """Add ``path`` (named like an image) to the paths of ``listing`` if it
    is a regular file, to its skipped entries with the reason otherwise."""
    try:
        mode = os.stat(path).st_mode
    except OSError as error:
        reason = ('a dangling link' if osp.islink(path) else
                  f'cannot be read: {error.strerror}')
    else:
        reason = (None if stat.S_ISREG(mode) else
                  'a folder, not an image' if stat.S_ISDIR(mode) else
                  'not a regular file (a FIFO, socket or device)')
    if reason is None:
        listing.paths.append(path)
    else:
        listing.skipped.append((path, reason))


def _folder_id(path: str) -> Tuple[int, int]:
    """(device, inode) of the folder ``path`` (links followed)."""
    info = os.stat(path)
    return info.st_dev, info.st_ino


class _GlobPattern:
    """The part of a glob pattern below its first folder with a wildcard,
    matched component by component as :func:`glob.glob` with
    ``recursive=True`` does (``**`` is any number of folders; wildcards
    match no hidden name, one starting with ``.``, unless the pattern's
    component does), so that a folder walk can follow it."""

    def __init__(self, parts: Sequence[str]):
        self.parts = tuple(parts)

    @staticmethod
    def _name_matches(name: str, pattern: str) -> bool:
        if name.startswith('.') and not pattern.startswith('.'):
            return False
        return fnmatch.fnmatchcase(name, pattern)

    def _matches(self, names: Tuple[str, ...], parts: Tuple[str, ...],
                 prefix: bool) -> bool:
        if not names:
            return prefix or all(part == '**' for part in parts)
        if not parts:
            return False
        if parts[0] == '**':
            return self._matches(names, parts[1:], prefix) or (
                not names[0].startswith('.')
                and self._matches(names[1:], parts, prefix))
        return self._name_matches(names[0], parts[0]) and self._matches(
            names[1:], parts[1:], prefix)

    def matches(self, names: Tuple[str, ...]) -> bool:
        """Whether the path of components ``names`` matches."""
        return self._matches(names, self.parts, prefix=False)

    def may_contain(self, names: Tuple[str, ...]) -> bool:
        """Whether a path under the folder ``names`` may match."""
        return self._matches(names, self.parts, prefix=True)


def _split_glob(spec: str) -> Tuple[str, _GlobPattern]:
    """``spec`` as (its leading folders without wildcards, the rest)."""
    parts = spec.split(os.sep)
    first = next(i for i, part in enumerate(parts) if glob.has_magic(part))
    base = os.sep.join(parts[:first])
    if first == 1 and not parts[0]:  # '/*...': the root folder
        base = os.sep
    return base, _GlobPattern(part for part in parts[first:] if part)


def _walk_images(folder: str, exclude: Sequence[str],
                 listing: ImageListing,
                 pattern: Optional[_GlobPattern] = None) -> None:
    """Add the images under ``folder`` (``''``: the working folder) to
    ``listing``, following links to folders but visiting each real folder
    once (by device and inode); with ``pattern``, only the paths below
    ``folder`` it matches, entering only folders that may hold some."""
    excluded = {_folder_id(path) for path in exclude if osp.isdir(path)}
    visited = set()
    top = folder or os.curdir

    def unlisted(error: OSError) -> None:
        listing.skipped.append((error.filename, f'cannot be listed: '
                                f'{error.strerror}'))

    for dirpath, dirnames, filenames in os.walk(top, onerror=unlisted,
                                                followlinks=True):
        below = () if dirpath == top else tuple(
            osp.relpath(dirpath, top).split(os.sep))
        here = osp.join(folder, *below)
        key = _folder_id(dirpath)
        if key in excluded or key in visited:
            listing.skipped.append((here, 'excluded (the output folder)'
                                    if key in excluded else
                                    'a link to a folder listed already'))
            dirnames.clear()
            continue
        visited.add(key)
        for name in dirnames + filenames:
            if name.lower().endswith(IMG_EXTENSIONS) and (
                    pattern is None or pattern.matches(below + (name, ))):
                _take_image(osp.join(here, name), listing)
        if pattern is not None:
            dirnames[:] = [name for name in dirnames
                           if pattern.may_contain(below + (name, ))]


def find_images(spec: str, exclude: Sequence[str] = ()) -> ImageListing:
    """Image files named by ``spec``: a file, a folder or a glob pattern.

    Folders are searched recursively for the extensions of
    :data:`~serankdet.datasets.image_io.IMG_EXTENSIONS` (any case),
    following links to folders but entering each real folder once (a link
    loop ends), and never entering the folders of ``exclude`` (e.g. where
    the results go). Globs may use ``**``; they are followed by the same
    walk, from their last folder without a wildcard, so a link loop lists
    no frame twice. A file is taken whatever its extension. Entries named
    like images that are not regular files are skipped, and said so in
    :attr:`ImageListing.skipped`.

    Raises:
        FileNotFoundError: no image file matches ``spec``.
    """
    listing = ImageListing(paths=[], skipped=[])
    if osp.isfile(spec):
        listing.paths.append(spec)
    elif osp.isdir(spec):
        _walk_images(spec, exclude, listing)
    elif glob.has_magic(spec):
        base, pattern = _split_glob(spec)
        if osp.isdir(base or os.curdir):
            _walk_images(base, exclude, listing, pattern)
    if not listing.paths:
        raise FileNotFoundError(
            f'no image ({", ".join(IMG_EXTENSIONS)}) found at "{spec}": '
            'give an image file, a folder or a glob pattern')
    listing.paths.sort()
    listing.skipped.sort()
    return listing


def list_images(spec: str, exclude: Sequence[str] = ()) -> List[str]:
    """The paths of :func:`find_images`; what was skipped is logged as a
    warning, one line per entry."""
    listing = find_images(spec, exclude)
    for path, reason in listing.skipped:
        print_log(f'skipped {path}: {reason}', logger='current',
                  level=logging.WARNING)
    return listing.paths


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


def _check_device(device: Optional[str]) -> None:
    """Refuse a device that is not a torch device or that this machine
    lacks (None picks the available device).

    Raises:
        ValueError: naming the device and the devices there are.
    """
    if device is None:
        return
    try:
        device = torch.device(device)
    except RuntimeError as error:
        raise ValueError(f'device {device!r} is not a torch device '
                         f'({error})') from None
    if device.type == 'cuda' and (device.index or 0) >= \
            torch.cuda.device_count():
        raise ValueError(
            f'device {str(device)!r}: this machine has '
            f'{torch.cuda.device_count()} CUDA GPU(s) usable by torch '
            f'{torch.__version__}; use device \'cpu\' (--device cpu)')


def _pipeline_input(item: ImageInput) -> dict:
    """First step of the inference pipeline: what its image loader reads
    (``img_path`` for a path, the array in ``img`` otherwise; a
    :class:`VideoFrame` as its image)."""
    if isinstance(item, VideoFrame):
        item = item.image
    if isinstance(item, np.ndarray):
        return dict(img=item)
    if isinstance(item, (str, os.PathLike)):
        return dict(img_path=os.fspath(item))
    raise TypeError(f'a frame is a path or an (H, W[, C]) array, got '
                    f'{type(item).__name__}')


@INFERENCERS.register_module()
class IRSTDInferencer(BaseInferencer):
    """Run an IRSTD model on frames and list the targets it finds.

    Built like ``MMSegInferencer``: ``IRSTDInferencer(model=CONFIG,
    weights=CKPT)`` or ``INFERENCERS.build(dict(type='IRSTDInferencer',
    model=CONFIG, weights=CKPT))``. Frames are read like the test set
    (native bit depth, colour and alpha reduced to gray) by the config's
    test pipeline without annotations. Consecutive frames whose padded size
    is the same are batched together, so a frame's result never depends on
    its neighbours. A frame larger than the model takes in one pass runs in
    sliding windows chosen by the segmentor (said once in the log).

    Calling the inferencer returns :class:`FrameResult` s (one for a file
    or an array, a list for a list, folder or glob) instead of
    BaseInferencer's dict; :meth:`stream` yields them frame by frame and
    goes on past frames that cannot be read or processed.

    Example:
        >>> inferencer = IRSTDInferencer('configs/unet/unet_...py',
        ...                              'work_dirs/x/best.pth')
        >>> result = inferencer('frame.png')
        >>> [t.centroid for t in result.targets]

    Args:
        model (str | Config | dict): the model's config (a path or the
            config itself), or the name of a shipped model
            (``model-index.yml``; its weights are then the default). A
            config stored in a checkpoint is never used: it would be
            executed code.
        weights (str, optional): checkpoint or model-zoo name (checked
            against its SHA-256), loaded weights-only (see
            :func:`~serankdet.utils.load_checkpoint_file`) and strictly
            (None: random initialisation, for timing only).
        device (str, optional): e.g. 'cpu' (default), 'cuda:0'; None picks
            the available device.
        threshold (float, optional): probability threshold, replacing that
            of the model's decision rule (``model.decode_head``) for this
            inferencer. None: the calibrated threshold of ``weights``
            (``<weights>.decision.json`` of
            ``tools/analysis_tools/calibrate.py``, said in the log) when it
            has one and ``cfg_options`` sets no decision-rule key, else the
            config's. With ``backend='onnxruntime'`` the rule stored in
            ``onnx_file`` by ``export_onnx.py`` (the checkpoint's) takes the
            calibration file's place, under the same conditions; a graph
            exported without one falls back to the config's rule, with a
            warning.
        tile (int | Sequence[int], optional): sliding-window size (h, w);
            None keeps the config's ``test_cfg`` (usually whole frames).
        overlap (int | float): window overlap, pixels or a tile fraction
            (see :func:`tile_test_cfg`).
        batch_size (int): frames per forward pass (the default of
            :meth:`__call__` and :meth:`stream`).
        cfg_options (dict, optional): config overrides.
        amp (bool): run the model under autocast (float16 on a GPU,
            bfloat16 on a CPU); the logits are returned as float32.
        backend (str): what runs the network, one of
            :data:`~serankdet.apis.backends.BACKENDS`: 'pytorch' (default)
            or 'onnxruntime' (``onnx_file`` on the CPU, with the same
            reading, preprocessing, windows and decision rule; see
            :func:`~serankdet.apis.backends.use_onnx_backend`).
        onnx_file (str, optional): the graph of
            ``tools/deployment/export_onnx.py`` (or its int8 version of
            ``quantize_onnx.py``) for ``backend='onnxruntime'``, which
            holds the weights: ``weights`` must then be None.
        scope (str): registry scope of the config's types.
        show_progress (bool): show a progress bar over the batches.
    """

    preprocess_kwargs: set = set()
    forward_kwargs: set = set()
    visualize_kwargs: set = {'return_vis', 'show', 'wait_time', 'img_out_dir'}
    postprocess_kwargs: set = {'pred_out_dir'}

    def __init__(self,
                 model: Union[str, Config, ConfigDict, dict],
                 weights: Optional[str] = None,
                 device: Optional[str] = 'cpu',
                 threshold: Optional[float] = None,
                 tile: Union[None, int, Sequence[int]] = None,
                 overlap: Union[int, float] = 0.25,
                 batch_size: int = 1,
                 cfg_options: Optional[dict] = None,
                 amp: bool = False,
                 backend: str = 'pytorch',
                 onnx_file: Optional[str] = None,
                 scope: str = 'serankdet',
                 show_progress: bool = False):
        if batch_size < 1:
            raise ValueError(f'batch_size must be >= 1, got {batch_size}')
        _check_device(device)
        onnx = check_backend(backend, onnx_file, weights, device, amp)
        register_all_modules()
        # model-zoo names (model-index.yml) become the config and the
        # SHA-256-checked weights (the ONNX file holds its own)
        if isinstance(model, (str, os.PathLike)):
            zoo_model = find_zoo_model(os.fspath(model)) if onnx else None
            model, weights = ((zoo_model.config, None) if zoo_model else
                              resolve_model(os.fspath(model), weights))
        else:
            weights = resolve_checkpoint(weights)
        self.weights = weights
        # running indices naming the outputs of array inputs (as mmseg's)
        self.num_visualized_imgs = 0
        self.num_pred_imgs = 0
        # output names of the path frames of the running call
        self._names: Dict[str, str] = {}
        # seconds the model waited for prefetched frames (stream())
        self.input_wait = 0.0
        cfg = self._load_config(model, cfg_options)
        overrides = rule_options(cfg_options) + (
            ['threshold'] if threshold is not None else [])
        # one rule for both backends: a checkpoint's calibration file, or
        # the rule export_onnx.py stored in the graph
        network = ONNXRuntimeNetwork(onnx_file) if onnx else None
        warning = False
        if onnx:
            message, warning = apply_onnx_rule(cfg, network, overrides)
        else:
            message = apply_calibration(cfg, weights, overrides)
        if message:
            print_log(message, logger='current',
                      level=logging.WARNING if warning else logging.INFO)
        super().__init__(model=cfg, weights=weights, device=device,
                         scope=scope, show_progress=show_progress)
        if tile is not None:
            self.model.test_cfg = tile_test_cfg(
                tile, overlap, self.model.data_preprocessor.size_divisor)
        if onnx:
            use_onnx_backend(self.model, network)
        if threshold is not None:
            head = self.model.decode_head
            head.decision_rule = head.decision_rule.with_threshold(threshold)
        self.batch_size = batch_size
        self.device_type = next(self.model.parameters()).device.type
        if self.device_type == 'cpu' or onnx:
            print_log(describe_cpu_threads(), logger='current')
        self.amp = amp
        if amp:
            warn_if_bfloat16_emulated(self.device_type)

    @property
    def decision_rule(self) -> DecisionRule:
        """The model's decision rule, which gives every mask."""
        return self.model.decode_head.decision_rule

    @property
    def threshold(self) -> float:
        """The probability threshold of :attr:`decision_rule`."""
        return self.decision_rule.threshold

    @staticmethod
    def _load_config(model, cfg_options: Optional[dict]) -> Config:
        """The config as a :class:`Config` of its own, overrides merged."""
        if isinstance(model, (str, os.PathLike)):
            path = os.fspath(model)
            if not osp.isfile(path):
                raise FileNotFoundError(
                    f'config file "{path}" does not exist')
            cfg = Config.fromfile(path)
        elif isinstance(model, Config):
            cfg = copy.deepcopy(model)
        elif isinstance(model, dict):
            cfg = Config(copy.deepcopy(dict(model)))
        elif model is None:
            raise ValueError(
                'IRSTDInferencer needs the model\'s config (model=...): the '
                'config text a checkpoint may hold is code and is never run')
        else:
            raise TypeError(f'model must be a config path, Config or dict, '
                            f'got {type(model).__name__}')
        if cfg_options:
            cfg.merge_from_dict(cfg_options)
        return cfg

    # --- BaseInferencer's construction hooks --------------------------------

    def _init_model(self, cfg: Config, weights: Optional[str],
                    device: str = 'cpu') -> torch.nn.Module:
        """Build ``cfg.model`` and load ``weights`` safely.

        Replaces BaseInferencer's, which unpickles the checkpoint with
        mmengine's loader (arbitrary code can run) and loads non-strictly:
        here the file goes through
        :func:`~serankdet.utils.load_checkpoint_file` (weights-only
        allowlist) and :meth:`_load_weights_to_model` loads strictly.
        """
        model = MODELS.build(cfg.model)
        model.cfg = cfg
        checkpoint = (None if weights is None else
                      load_checkpoint_file(weights, map_location='cpu'))
        self._load_weights_to_model(model, checkpoint, cfg)
        return model.to(device).eval()

    def _load_weights_to_model(self, model: torch.nn.Module,
                               checkpoint: Optional[dict],
                               cfg: Optional[Config]) -> None:
        """Load the checkpoint's ``state_dict`` (or a bare state dict)
        strictly: keys and shapes must match the model exactly, or
        :class:`~serankdet.engine.runner.CheckpointMismatchError` lists the
        differences and nothing is loaded. None keeps the random
        initialisation."""
        if checkpoint is None:
            return
        state = checkpoint.get('state_dict', checkpoint) if isinstance(
            checkpoint, dict) else None
        if not isinstance(state, dict):
            raise ValueError(f'checkpoint {self.weights} holds no state dict')
        check_state_dict(model.state_dict(), state, self.weights,
                         type(model).__name__)
        load_state_dict(model, state, strict=True)

    def _init_pipeline(self, cfg: Config) -> Compose:
        """The config's ``test_pipeline`` without ground-truth loading,
        taking a path or an array (its image loader reads ``img_path`` or
        the array in ``img``)."""
        return Compose([_pipeline_input] + [
            dict(step) for step in cfg.test_pipeline
            if step['type'] not in _ANNOTATION_TRANSFORMS])

    def _init_collate(self, cfg: Config):
        """Always :func:`pseudo_collate`: frames of a batch stay separate
        tensors (the data preprocessor pads them), so a failing batch can be
        rerun frame by frame."""
        return pseudo_collate

    def _init_visualizer(self, cfg: Config):
        """None: overlays are drawn by :func:`draw_overlay`; the config's
        visualizer is built on the first ``show=True`` only (without its
        vis_backends, which write into a work dir)."""
        return None

    # --- running ----------------------------------------------------------

    def __call__(self,
                 inputs: Union[ImageInput, Sequence[ImageInput]],
                 return_datasamples: bool = False,
                 batch_size: Optional[int] = None,
                 return_vis: bool = False,
                 show: bool = False,
                 wait_time: float = 0,
                 out_dir: str = '',
                 img_out_dir: str = 'overlays',
                 pred_out_dir: str = 'masks',
                 **kwargs) -> Union[FrameResult, List[FrameResult]]:
        """Results for one frame, or a list for a list (or a folder/glob).

        Args:
            inputs: a path, a folder, a glob, an (H, W[, C]) array (colour in
                OpenCV's BGR(A) order), or a list of paths/arrays.
            return_datasamples (bool): return the model's ``SegDataSample``
                s (``seg_logits``, ``pred_sem_seg`` at this inferencer's
                threshold, ``img`` the frame as read) instead.
            batch_size (int, optional): frames per forward pass; defaults to
                the constructor's.
            return_vis (bool): fill :attr:`FrameResult.visualization`.
            show (bool): show each overlay in a window.
            wait_time (float): seconds each shown overlay stays.
            out_dir (str): when given, write each mask (0 / 255 PNG) into
                ``out_dir/pred_out_dir`` and each overlay into
                ``out_dir/img_out_dir``, named after the file's path
                relative to the folder given (or to the deepest folder
                holding the files) without its extension, with it where
                two frames would share a name (``dup.png``, ``dup.tif``);
                arrays: a running index.

        Raises:
            FileNotFoundError / InvalidSampleError: a frame cannot be read,
            or the model's error on a frame (use :meth:`stream` to go on
            past failing frames).
        """
        if out_dir:
            img_out_dir = osp.join(out_dir, img_out_dir)
            pred_out_dir = osp.join(out_dir, pred_out_dir)
        else:
            img_out_dir = pred_out_dir = ''
        single = isinstance(inputs, np.ndarray) or (
            isinstance(inputs, (str, os.PathLike)) and osp.isfile(inputs))
        results = []
        for _, result in self.stream(
                inputs, return_datasamples=return_datasamples,
                batch_size=batch_size, return_vis=return_vis, show=show,
                wait_time=wait_time, img_out_dir=img_out_dir,
                pred_out_dir=pred_out_dir, **kwargs):
            if isinstance(result, Exception):
                raise result
            results.append(result)
        return results[0] if single else results

    def stream(self,
               inputs: Union[ImageInput, Iterable[ImageInput]],
               return_datasamples: bool = False,
               batch_size: Optional[int] = None,
               prefetch: int = 0,
               **kwargs) -> Iterator[Tuple[ImageInput,
                                           Union[FrameResult, Exception]]]:
        """Yield ``(input, result)`` per frame, in input order.

        Runs BaseInferencer's steps batch by batch (:meth:`preprocess`,
        :meth:`forward` through :meth:`_run`, :meth:`visualize`,
        :meth:`postprocess`), so results come as frames finish and an
        iterable of frames (e.g. a video reader) is consumed lazily. A frame
        that cannot be read (file missing, corrupt, unsupported pixel type)
        or that the model fails on yields its exception instead of a result;
        the others are processed as usual.

        With ``prefetch``, reading and preprocessing (decoding a video
        included) run in a background thread up to ``prefetch`` batches
        ahead of the model (:class:`~serankdet.apis.video.Prefetcher`);
        :attr:`input_wait` is then the time the model has waited for them
        so far in this call.

        Args:
            inputs: as for :meth:`__call__`, or any iterable of frames
                (e.g. a :class:`~serankdet.apis.video.VideoReader`).
            return_datasamples (bool): yield ``SegDataSample`` s.
            batch_size (int, optional): defaults to the constructor's.
            prefetch (int): batches read ahead in a thread (0: none, the
                frames are read between forward passes).
            **kwargs: :attr:`visualize_kwargs` and
                :attr:`postprocess_kwargs` (``return_vis``, ``show``,
                ``wait_time``, ``img_out_dir``, ``pred_out_dir``).
        """
        batch_size = self.batch_size if batch_size is None else batch_size
        if batch_size < 1:
            raise ValueError(f'batch_size must be >= 1, got {batch_size}')
        preprocess_kwargs, forward_kwargs, visualize_kwargs, \
            postprocess_kwargs = self._dispatch_kwargs(**kwargs)
        frames = self._inputs_to_list(inputs)
        self._names = self._frame_names(inputs, frames)
        chunks = self.preprocess(frames, batch_size=batch_size,
                                 **preprocess_kwargs)
        self.input_wait = 0.0
        prefetcher = Prefetcher(chunks, prefetch) if prefetch else None
        if prefetcher is not None:
            chunks = prefetcher
        if self.show_progress:
            chunks = track(chunks, description='Inference')
        try:
            for items, data in chunks:
                if prefetcher is not None:
                    self.input_wait = prefetcher.waited
                if isinstance(data, Exception):
                    yield items[0], data
                    continue
                yield from self._infer_batch(items, data, return_datasamples,
                                             forward_kwargs, visualize_kwargs,
                                             postprocess_kwargs)
        finally:
            if prefetcher is not None:
                prefetcher.close()
                self.input_wait = prefetcher.waited

    def _infer_batch(self, items: List[ImageInput], data: dict,
                     return_datasamples: bool, forward_kwargs: dict,
                     visualize_kwargs: dict, postprocess_kwargs: dict):
        """Yield ``(item, result or exception)`` per frame of a batch read
        by :meth:`preprocess` (:meth:`stream`'s steps after reading)."""
        outcomes = list(self._run(items, data, **forward_kwargs))
        done = [(item, sample) for item, sample in outcomes
                if not isinstance(sample, Exception)]
        if done:
            preds = [sample for _, sample in done]
            visualization = self.visualize(
                [item for item, _ in done], preds, **visualize_kwargs)
            results = iter(self.postprocess(
                preds, visualization, return_datasamples,
                **postprocess_kwargs))
        for item, outcome in outcomes:
            yield item, (outcome if isinstance(outcome, Exception) else
                         next(results))

    def _inputs_to_list(self, inputs) -> Iterable[ImageInput]:
        """A file or an array: itself; a folder or a glob: its images
        (:func:`list_images`, recursive and sorted); a list or tuple: a
        list; any other iterable is passed on to be consumed lazily."""
        if isinstance(inputs, np.ndarray):
            return [inputs]
        if isinstance(inputs, (str, os.PathLike)):
            inputs = os.fspath(inputs)
            return [inputs] if osp.isfile(inputs) else list_images(inputs)
        if isinstance(inputs, (list, tuple)):
            return list(inputs)
        if isinstance(inputs, Iterable):
            return inputs
        raise TypeError(f'inputs must be a path, an array or an iterable of '
                        f'them, got {type(inputs).__name__}')

    @staticmethod
    def _frame_names(inputs, frames) -> Dict[str, str]:
        """The output names of the path frames (:func:`output_names`:
        relative to a folder given as input, else to the deepest folder
        holding them; unique); none for frames consumed lazily."""
        if not isinstance(frames, list):
            return {}
        folder = (os.fspath(inputs) if isinstance(inputs, (str, os.PathLike))
                  and osp.isdir(inputs) else None)
        return output_names((os.fspath(frame) for frame in frames
                             if isinstance(frame, (str, os.PathLike))),
                            folder)

    def _output_name(self, sample, index: int) -> str:
        """File name (without extension) of a frame's outputs: its name
        among the frames of the call, the file's stem for a frame consumed
        lazily, the running ``index`` for an array."""
        path = sample.metainfo.get('img_path')
        if path is None:
            return f'{index:08d}'
        return self._names.get(path) or osp.splitext(osp.basename(path))[0]

    def preprocess(self, inputs: Iterable[ImageInput], batch_size: int = 1,
                   **kwargs) -> Iterator[tuple]:
        """Read the frames and yield ``(items, data)`` per batch.

        ``data`` is the collated batch for ``model.test_step``: at most
        ``batch_size`` consecutive frames of the same padded size (the data
        preprocessor's ``size_divisor``). A frame that cannot be read gives
        ``([item], error)`` on its own.
        """
        items: List[ImageInput] = []
        packed: List[dict] = []
        for item in inputs:
            try:
                sample = self.pipeline(item)
            except READ_ERRORS as err:
                if items:
                    yield items, self.collate_fn(packed)
                    items, packed = [], []
                yield [item], err
                continue
            if items and (len(items) == batch_size or self._padded_shape(
                    sample) != self._padded_shape(packed[0])):
                yield items, self.collate_fn(packed)
                items, packed = [], []
            items.append(item)
            packed.append(sample)
        if items:
            yield items, self.collate_fn(packed)

    def _padded_shape(self, packed: dict) -> Tuple[int, int]:
        div = self.model.data_preprocessor.size_divisor or 1
        return tuple(-(-s // div) * div for s in packed['inputs'].shape[-2:])

    @torch.no_grad()
    def forward(self, inputs: dict, **kwargs) -> list:
        """``model.test_step`` on a collated batch, under autocast when the
        inferencer was built with ``amp=True``."""
        with autocast(device_type=self.device_type, enabled=self.amp):
            return self.model.test_step(inputs)

    def _run(self, items: List[ImageInput], data: dict):
        """Yield ``(item, SegDataSample)`` per frame of the batch; a frame
        the model fails on yields its exception (a failing batch is rerun
        frame by frame, so only the failing frames are reported)."""
        try:
            samples = self.forward(data)
        except Exception as err:  # reported per frame; the others go on
            if len(items) == 1:
                yield items[0], err
            else:
                for index, item in enumerate(items):
                    yield from self._run([item], {
                        key: value[index:index + 1]
                        for key, value in data.items()})
            return
        for item, sample, image in zip(items, samples, data['inputs']):
            yield item, self._complete(sample, image)

    def _complete(self, sample, image: torch.Tensor):
        """Keep the frame as read in ``img``, (H, W) gray or (H, W, 3) for
        pipelines that load RGB (resized to the output size for test
        pipelines that resize); ``pred_sem_seg`` is the mask of the model's
        :attr:`decision_rule`."""
        shape = tuple(sample.pred_sem_seg.data.shape[-2:])
        frame = image.permute(1, 2, 0).numpy()
        if frame.shape[:2] != shape:
            frame = cv2.resize(frame, shape[::-1],
                               interpolation=cv2.INTER_AREA)
        if frame.ndim == 3 and frame.shape[2] == 1:
            frame = frame[..., 0]
        sample.set_field(frame, 'img')
        return sample

    def visualize(self,
                  inputs: list,
                  preds: list,
                  return_vis: bool = False,
                  show: bool = False,
                  wait_time: float = 0,
                  img_out_dir: str = '') -> Optional[List[np.ndarray]]:
        """Overlays of :func:`draw_overlay` (RGB), when asked for.

        Args:
            inputs (list): the frames' inputs (paths or arrays).
            preds (list): their ``SegDataSample`` s from :meth:`_run`.
            return_vis (bool): return the overlays.
            show (bool): show them with the config's visualizer.
            wait_time (float): seconds each shown overlay stays.
            img_out_dir (str): write them as PNG into this folder.

        Returns:
            list[np.ndarray] | None: the overlays with ``return_vis``.
        """
        if not (return_vis or show or img_out_dir):
            return None
        overlays = []
        for sample in preds:
            overlay = draw_overlay(
                sample.img, sample.pred_sem_seg.data[0].cpu().numpy(),
                sample.metainfo.get('img_max_value'))
            name = self._output_name(sample, self.num_visualized_imgs)
            if img_out_dir:
                imwrite(osp.join(img_out_dir, name + '.png'),
                        overlay[..., ::-1])
            if show:
                self._show_visualizer().show(overlay, win_name=name,
                                             wait_time=wait_time)
            overlays.append(overlay)
            self.num_visualized_imgs += 1
        return overlays if return_vis else None

    def _show_visualizer(self):
        if self.visualizer is None:
            cfg = copy.deepcopy(self.cfg)
            if 'visualizer' not in cfg:
                raise ValueError('show=True needs the "visualizer" of the '
                                 'config, which has none')
            cfg.visualizer.pop('vis_backends', None)
            self.visualizer = super()._init_visualizer(cfg)
        return self.visualizer

    def postprocess(self,
                    preds: list,
                    visualization: Optional[List[np.ndarray]] = None,
                    return_datasample: bool = False,
                    pred_out_dir: str = '') -> list:
        """One :class:`FrameResult` per data sample (or the samples).

        Unlike BaseInferencer's dict, the toolbox's result type; the
        overlays go into :attr:`FrameResult.visualization`.

        Args:
            preds (list): ``SegDataSample`` s from :meth:`_run`.
            visualization (list, optional): from :meth:`visualize`.
            return_datasample (bool): return ``preds`` themselves.
            pred_out_dir (str): write each mask (0 / 255 PNG) into this
                folder, named as :meth:`__call__` says.
        """
        results = []
        for index, sample in enumerate(preds):
            mask = sample.pred_sem_seg.data[0].cpu().numpy().astype(bool)
            if pred_out_dir:
                name = self._output_name(sample, self.num_pred_imgs)
                imwrite(osp.join(pred_out_dir, name + '.png'),
                        mask.astype(np.uint8) * 255)
            self.num_pred_imgs += 1
            if return_datasample:
                results.append(sample)
                continue
            logits = sample.seg_logits.data[0].float().cpu()
            probs = logits.sigmoid().numpy()
            results.append(FrameResult(
                mask=mask,
                probabilities=probs,
                targets=extract_targets(probs, mask),
                image=sample.img,
                max_value=float(sample.metainfo.get('img_max_value', 255.0)),
                source=sample.metainfo.get('img_path'),
                visualization=(None if visualization is None else
                               visualization[index])))
        return results

