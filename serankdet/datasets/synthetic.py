"""A synthetic infrared small-target dataset, generated on demand.

Each frame is built on an 8-bit gray-level scale (values 0-255, as floats)
and quantized at the end:

* background: a base level plus smooth low-frequency clutter (Gaussian-
  filtered white noise, sigma 8-24 px) and a linear ramp;
* structured clutter, larger than any target so it stays separable: bright
  cloud patches (thresholded smooth noise, sigma 6-12 px) with probability
  0.5, and a horizon-like soft step edge with probability 0.4;
* targets: 0 targets in about 10 % of the frames, else 1-4, each a rotated
  2-D Gaussian (sigma 0.5-1.8 px, elongated 1.5-3x in 30 % of cases) whose
  peak is ``snr`` (5-15) times the sensor noise std, at least 10 px apart
  and 4 px from the border. The mask of a target is where its profile
  reaches 30 % of the peak (plus the brightest pixel), 1-80 px;
* sensor noise: white Gaussian (std 1.5-4 gray levels) plus weak column
  fixed-pattern noise.

Frames are drawn from ``numpy.random.default_rng([seed, split, index])``, so
a frame depends only on the seed, its split and its index (not on how many
frames are made). The dataset is written in the standard layout
``{trainval,test}/{images,masks}/<stem>.png`` (images 8-bit, or 16-bit with
``bit_depth=16``: the same scene quantized at 257x finer steps; masks 0/255)
with ``targets.json`` beside it: the generation parameters and, per split
and stem, the list of targets (``centroid_yx`` of the mask, ``area``,
``center_yx``, ``sigma`` (major, minor), ``angle``, ``peak``, ``snr``).
"""
import json
import os
import os.path as osp
import shutil
import tempfile
from typing import Dict, List, Optional, Sequence, Tuple

import cv2
import numpy as np

from serankdet.registry import DATASETS
from .irstd import IRSTDDataset

SPLITS = ('trainval', 'test')
TARGETS_FILE = 'targets.json'
#: Bump when the generator changes so stale folders are detected.
GENERATOR_VERSION = 1

_MASK_LEVEL = 0.3  # mask = profile >= 30 % of the peak
_MAX_AREA = 80
_MIN_TARGET_DISTANCE = 10
_BORDER = 4


def _smooth_noise(rng: np.random.Generator, shape: Tuple[int, int],
                  sigma: float) -> np.ndarray:
    """Zero-mean unit-std low-frequency noise (H, W) float32."""
    field = cv2.GaussianBlur(
        rng.standard_normal(shape).astype(np.float32), (0, 0), sigma,
        borderType=cv2.BORDER_REFLECT)
    return (field - field.mean()) / (field.std() + 1e-6)


def _background(rng: np.random.Generator,
                shape: Tuple[int, int]) -> np.ndarray:
    """Smooth clutter, ramp, clouds and edges (H, W) float32."""
    h, w = shape
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    frame = np.full(shape, rng.uniform(40, 120), np.float32)
    frame += rng.uniform(5, 25) * _smooth_noise(rng, shape,
                                                rng.uniform(8, 24))
    ramp_angle = rng.uniform(0, 2 * np.pi)
    frame += rng.uniform(0, 20) * (np.cos(ramp_angle) * xx / w +
                                   np.sin(ramp_angle) * yy / h)
    if rng.random() < 0.5:  # bright clouds: soft-edged blobs many px wide
        cloud = _smooth_noise(rng, shape, rng.uniform(6, 12))
        cloud = np.clip(cloud - rng.uniform(0.3, 1.0), 0, None)
        frame += rng.uniform(15, 50) * cloud / (cloud.max() + 1e-6)
    if rng.random() < 0.4:  # horizon / coast line: soft step edge
        angle = rng.uniform(0, 2 * np.pi)
        py, px = rng.uniform(0.3, 0.7) * h, rng.uniform(0.3, 0.7) * w
        dist = np.cos(angle) * (xx - px) + np.sin(angle) * (yy - py)
        frame += rng.uniform(10, 40) / (1 + np.exp(-dist / 1.5))
    return frame


def _target(rng: np.random.Generator, center: Tuple[float, float],
            shape: Tuple[int, int], noise_std: float):
    """Profile (H, W) float32, mask (H, W) bool and description of one target
    with a mask of 1 to ``_MAX_AREA`` pixels."""
    h, w = shape
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    while True:
        minor = rng.uniform(0.5, 1.8)
        aspect = (rng.uniform(1.5, 3.0) if rng.random() < 0.3 else
                  rng.uniform(1.0, 1.3))
        major = minor * aspect
        angle = rng.uniform(0, np.pi)
        snr = rng.uniform(5, 15)
        cy, cx = center
        u = np.cos(angle) * (xx - cx) + np.sin(angle) * (yy - cy)
        v = -np.sin(angle) * (xx - cx) + np.cos(angle) * (yy - cy)
        profile = np.exp(-0.5 * ((u / major)**2 + (v / minor)**2))
        mask = profile >= _MASK_LEVEL * profile.max()
        if mask.sum() <= _MAX_AREA:
            break
    peak = snr * noise_std
    ys, xs = np.nonzero(mask)
    info = dict(
        centroid_yx=[float(ys.mean()), float(xs.mean())],
        area=int(mask.sum()), center_yx=[float(cy), float(cx)],
        sigma=[float(major), float(minor)], angle=float(angle),
        peak=float(peak), snr=float(snr))
    return (peak * profile).astype(np.float32), mask, info


def make_synthetic_sample(
        rng: np.random.Generator,
        shape: Tuple[int, int] = (128, 128)
) -> Tuple[np.ndarray, np.ndarray, List[dict]]:
    """Draw one frame.

    Returns:
        tuple: the frame (H, W) float32 on the 0-255 scale (unclipped), the
        mask (H, W) uint8 in {0, 1} and the list of target descriptions.
    """
    h, w = shape
    frame = _background(rng, shape)
    noise_std = rng.uniform(1.5, 4.0)
    num_targets = 0 if rng.random() < 0.1 else int(rng.integers(1, 5))
    centers = []
    for _ in range(50 * num_targets):
        if len(centers) == num_targets:
            break
        c = (rng.uniform(_BORDER, h - 1 - _BORDER),
             rng.uniform(_BORDER, w - 1 - _BORDER))
        if all(np.hypot(c[0] - o[0], c[1] - o[1]) >= _MIN_TARGET_DISTANCE
               for o in centers):
            centers.append(c)
    mask = np.zeros(shape, bool)
    targets = []
    for center in centers:
        profile, target_mask, info = _target(rng, center, shape, noise_std)
        frame += profile
        mask |= target_mask
        targets.append(info)
    frame += noise_std * rng.standard_normal(shape).astype(np.float32)
    frame += 0.5 * rng.standard_normal((1, w)).astype(np.float32)
    return frame, mask.astype(np.uint8), targets


def _quantize(frame: np.ndarray, bit_depth: int) -> np.ndarray:
    if bit_depth == 8:
        return np.clip(np.round(frame), 0, 255).astype(np.uint8)
    return np.clip(np.round(frame * 257), 0, 65535).astype(np.uint16)


def _params(num_train: int, num_test: int, img_size: Sequence[int],
            seed: int, bit_depth: int) -> dict:
    if bit_depth not in (8, 16):
        raise ValueError(f'bit_depth must be 8 or 16, got {bit_depth}')
    img_size = [int(s) for s in img_size]
    if len(img_size) != 2 or min(img_size) < 2 * _BORDER + 2:
        raise ValueError(f'img_size must be (H, W) with sides of at least '
                         f'{2 * _BORDER + 2}, got {img_size}')
    return dict(num_train=int(num_train), num_test=int(num_test),
                img_size=img_size, seed=int(seed), bit_depth=int(bit_depth),
                version=GENERATOR_VERSION)


def write_synthetic_dataset(out_dir: str,
                            num_train: int = 200,
                            num_test: int = 50,
                            img_size: Sequence[int] = (128, 128),
                            seed: int = 0,
                            bit_depth: int = 8) -> dict:
    """Write a synthetic dataset into ``out_dir`` (created if needed).

    Returns:
        dict: the content of ``targets.json``: ``params`` and ``targets``
        (``{split: {stem: [target, ...]}}``).
    """
    params = _params(num_train, num_test, img_size, seed, bit_depth)
    targets: Dict[str, Dict[str, List[dict]]] = {}
    counts = dict(trainval=params['num_train'], test=params['num_test'])
    for split_id, split in enumerate(SPLITS):
        img_dir = osp.join(out_dir, split, 'images')
        mask_dir = osp.join(out_dir, split, 'masks')
        os.makedirs(img_dir, exist_ok=True)
        os.makedirs(mask_dir, exist_ok=True)
        targets[split] = {}
        prefix = 'train' if split == 'trainval' else 'test'
        for index in range(counts[split]):
            rng = np.random.default_rng([params['seed'], split_id, index])
            frame, mask, frame_targets = make_synthetic_sample(
                rng, tuple(params['img_size']))
            stem = f'{prefix}_{index:05d}'
            cv2.imwrite(osp.join(img_dir, stem + '.png'),
                        _quantize(frame, bit_depth))
            cv2.imwrite(osp.join(mask_dir, stem + '.png'), mask * 255)
            targets[split][stem] = frame_targets
    meta = dict(params=params, targets=targets)
    with open(osp.join(out_dir, TARGETS_FILE), 'w', encoding='utf-8') as f:
        json.dump(meta, f, indent=1, sort_keys=True)
    return meta


def load_synthetic_targets(root: str) -> dict:
    """Read ``<root>/targets.json`` (see :func:`write_synthetic_dataset`)."""
    path = osp.join(root, TARGETS_FILE)
    if not osp.isfile(path):
        raise FileNotFoundError(
            f'{path} does not exist: {root} is not a synthetic dataset made '
            'by serankdet')
    with open(path, encoding='utf-8') as f:
        return json.load(f)


def _our_meta(root: str, params: dict) -> Optional[dict]:
    """The ``targets.json`` content if ``root`` holds a dataset written by
    :func:`write_synthetic_dataset` (``params`` with the keys it writes and
    ``targets``), else None: the folder is not ours."""
    try:
        meta = load_synthetic_targets(root)
    except (OSError, ValueError):
        return None
    if not (isinstance(meta, dict) and isinstance(meta.get('params'), dict)
            and set(meta['params']) == set(params) and 'targets' in meta):
        return None
    return meta


def ensure_synthetic_dataset(root: str,
                             num_train: int = 200,
                             num_test: int = 50,
                             img_size: Sequence[int] = (128, 128),
                             seed: int = 0,
                             bit_depth: int = 8) -> dict:
    """Generate the dataset at ``root`` unless it already exists.

    The data are written to a temporary sibling folder that is renamed to
    ``root`` in one step, so processes generating at the same time (data
    loader workers, distributed ranks) never see a partial folder: the
    first rename wins and the others discard their copy.

    Returns:
        dict: the content of ``targets.json``.

    Raises:
        ValueError: ``root`` exists but is not a synthetic dataset made by
            :func:`write_synthetic_dataset` (it is left alone; the message
            points to the configs of real datasets) or was made with other
            parameters.
    """
    params = _params(num_train, num_test, img_size, seed, bit_depth)
    if not osp.isdir(root):
        parent = osp.dirname(osp.abspath(root))
        os.makedirs(parent, exist_ok=True)
        tmp_dir = tempfile.mkdtemp(
            prefix=f'.{osp.basename(osp.abspath(root))}.tmp-', dir=parent)
        try:
            write_synthetic_dataset(tmp_dir, **{
                k: v for k, v in params.items() if k != 'version'})
            os.rename(tmp_dir, root)
        except OSError:
            if not osp.isfile(osp.join(root, TARGETS_FILE)):
                raise  # not a concurrent generation that won the race
        finally:
            shutil.rmtree(tmp_dir, ignore_errors=True)
    meta = _our_meta(root, params)
    if meta is None:  # maybe the user's real data: never advise deleting it
        raise ValueError(
            f'{root} exists but is not a synthetic dataset generated by '
            f'serankdet (it has no valid {TARGETS_FILE}); it is left as is. '
            'SyntheticIRSTDDataset, the dataset of the synthetic-data config '
            'configs/_base_/datasets/synthetic.py, only reads data it '
            'generated itself. For a real dataset use a config built on its '
            'own file in configs/_base_/datasets/ (sirst.py, nudt_sirst.py, '
            'irstd1k.py, ..., or custom_folder.py for your own data), which '
            'reads it with IRSTDDataset; for synthetic data set data_root to '
            'a folder that does not exist yet (the data are generated '
            'there).')
    if meta['params'] != params:
        raise ValueError(
            f'{root} holds a synthetic dataset generated by serankdet with '
            f'{meta["params"]}, not {params}; delete that generated folder '
            'to regenerate it, or set data_root to a new folder')
    return meta


@DATASETS.register_module()
class SyntheticIRSTDDataset(IRSTDDataset):
    """:class:`IRSTDDataset` over a synthetic dataset generated on first use.

    If ``data_root`` does not exist, :func:`ensure_synthetic_dataset`
    creates it (about 10 ms per 128x128 frame); an existing folder must have
    been made with the same parameters. Select the split with
    ``data_prefix`` as for real datasets.

    Args:
        num_train (int): frames in ``trainval``.
        num_test (int): frames in ``test``.
        img_size (tuple[int, int]): frame (H, W).
        seed (int): generation seed.
        bit_depth (int): 8 or 16-bit PNG images.
        **kwargs: :class:`IRSTDDataset` arguments (``data_root`` required).
    """

    #: writes its data under ``data_root`` when the folder is missing, so
    #: tools do not require the folder to exist beforehand
    CREATES_DATA_ROOT = True

    def __init__(self,
                 num_train: int = 200,
                 num_test: int = 50,
                 img_size: Sequence[int] = (128, 128),
                 seed: int = 0,
                 bit_depth: int = 8,
                 **kwargs) -> None:
        self.synthetic_params = dict(num_train=num_train, num_test=num_test,
                                     img_size=img_size, seed=seed,
                                     bit_depth=bit_depth)
        super().__init__(**kwargs)

    def load_data_list(self) -> List[dict]:
        if not self.data_root:
            raise ValueError('SyntheticIRSTDDataset needs a data_root to '
                             'generate the dataset into')
        ensure_synthetic_dataset(self.data_root, **self.synthetic_params)
        return super().load_data_list()
