"""Read a whole IRSTD dataset once and report every problem together.

Used by ``tools/misc/check_dataset.py``. A dataset is a set of splits, each
an image folder and a mask folder paired by file stem (the layout of
:class:`~serankdet.datasets.IRSTDDataset`).
"""
import os
import os.path as osp
from collections import Counter
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

import numpy as np
from PIL import Image

from .config_datasets import config_datasets
from .image_io import IMG_EXTENSIONS, InvalidSampleError, imread_unchanged
from .irstd import read_split_file

#: Bits per sample of the pixel types OpenCV decodes to.
_BITS = {np.dtype(np.uint8): 8, np.dtype(np.uint16): 16,
         np.dtype(np.float32): 32, np.dtype(np.float64): 64}


@dataclass
class Split:
    """One split to check: ``stems`` restricts it to a split file's list."""
    name: str
    img_dir: str
    mask_dir: str
    stems: Optional[List[str]] = None


@dataclass
class SplitStats:
    """What was found in one split."""
    pairs: int = 0
    empty_masks: int = 0
    image_formats: Counter = field(default_factory=Counter)
    mask_formats: Counter = field(default_factory=Counter)
    sizes: Counter = field(default_factory=Counter)  # (W, H)


@dataclass
class DatasetReport:
    """Per-split statistics and every problem found (``errors``)."""
    splits: Dict[str, SplitStats] = field(default_factory=dict)
    errors: List[str] = field(default_factory=list)

    def format(self) -> str:
        """A human-readable summary, one block per split, then the errors."""
        lines = []
        for name, stats in self.splits.items():
            lines.append(f'{name}: {stats.pairs} image/mask pairs, '
                         f'{stats.empty_masks} with an empty mask '
                         '(no target)')
            if stats.sizes:
                widths = [w for w, _ in stats.sizes]
                heights = [h for _, h in stats.sizes]
                common = stats.sizes.most_common(1)[0][0]
                lines.append(
                    f'  sizes: {len(stats.sizes)} distinct, width '
                    f'{min(widths)}-{max(widths)}, height {min(heights)}-'
                    f'{max(heights)}, most common {common[0]}x{common[1]}')
            for kind, formats in (('images', stats.image_formats),
                                  ('masks', stats.mask_formats)):
                if formats:
                    found = ', '.join(f'{fmt}: {n}'
                                      for fmt, n in formats.most_common())
                    lines.append(f'  {kind}: {found}')
        if self.errors:
            lines.append(f'{len(self.errors)} problems:')
            lines += [f'  {error}' for error in self.errors]
        else:
            lines.append('no problems found')
        return '\n'.join(lines)


def layout_splits(root: str) -> List[Split]:
    """The splits of a dataset root: ``{trainval,test}/{images,masks}`` (any
    sub-folder holding ``images``), or ``images``/``masks`` at the root."""
    if not osp.isdir(root):
        raise FileNotFoundError(f'dataset root {root} does not exist')
    splits = [Split(name, osp.join(root, name, 'images'),
                    osp.join(root, name, 'masks'))
              for name in sorted(os.listdir(root))
              if osp.isdir(osp.join(root, name, 'images'))]
    if osp.isdir(osp.join(root, 'images')):
        splits.insert(0, Split('.', osp.join(root, 'images'),
                               osp.join(root, 'masks')))
    if not splits:
        raise FileNotFoundError(
            f'{root} holds no images folder: expected '
            '<root>/{trainval,test}/{images,masks} or <root>/{images,masks}')
    return splits


def config_splits(cfg) -> List[Split]:
    """The splits a config reads: every dataset of its dataloaders
    (wrapped datasets followed, :func:`config_datasets`), its
    ``data_prefix`` folders and, when set, the stems of its ``ann_file``; a
    folder read by several dataloaders is checked once."""
    splits, seen = [], set()
    for dataset in config_datasets(cfg):
        img_dir = dataset.folder('img_path')
        mask_dir = dataset.folder('seg_map_path')
        if (img_dir, mask_dir, dataset.ann_file) in seen:
            continue
        seen.add((img_dir, mask_dir, dataset.ann_file))
        stems = read_split_file(dataset.ann_file) if dataset.ann_file \
            else None
        name = dataset.key.replace('_dataloader.dataset', '')
        splits.append(Split(name, img_dir, mask_dir, stems))
    if not splits:
        raise ValueError('the config defines no dataloader with a dataset')
    return splits


def _index(folder: str, errors: List[str]) -> Dict[str, str]:
    """stem -> file name of the images in ``folder``."""
    if not osp.isdir(folder):
        errors.append(f'folder {folder} does not exist')
        return {}
    index = {}
    for name in sorted(os.listdir(folder)):
        stem, ext = osp.splitext(name)
        if name.startswith('.') or ext.lower() not in IMG_EXTENSIONS:
            continue
        if stem in index:
            errors.append(f'{folder}: two files with stem {stem!r} '
                          f'({index[stem]}, {name}); keep one')
            continue
        index[stem] = name
    return index


def _read(path: str, errors: List[str]) -> Optional[Tuple[np.ndarray, str]]:
    """Decode a whole file as the loaders do (truncated files included);
    (pixels, 'N-bit MODE') or None."""
    try:
        pixels = imread_unchanged(path)
    except (InvalidSampleError, FileNotFoundError):
        errors.append(f'{path}: unreadable (corrupt, truncated or not an '
                      'image)')
        return None
    try:
        with Image.open(path) as img:
            mode = img.mode
    except (OSError, SyntaxError, ValueError):
        mode = None
    bits = _BITS.get(pixels.dtype, pixels.dtype.itemsize * 8)
    channels = 1 if pixels.ndim == 2 else pixels.shape[2]
    return pixels, f'{bits}-bit {mode or f"{channels}-channel"}'


def _check_pair(img_path: str, mask_path: str, stats: SplitStats,
                errors: List[str]) -> None:
    image = _read(img_path, errors)
    mask = _read(mask_path, errors)
    if image is None or mask is None:
        return
    (img, img_format), (msk, mask_format) = image, mask
    stats.pairs += 1
    stats.image_formats[img_format] += 1
    stats.mask_formats[mask_format] += 1
    height, width = img.shape[:2]
    stats.sizes[(width, height)] += 1
    if msk.shape[:2] != img.shape[:2]:
        errors.append(
            f'{mask_path}: mask is {msk.shape[1]}x{msk.shape[0]} but its '
            f'image {img_path} is {width}x{height} (WxH)')
    if msk.ndim == 3:  # colour masks: a pixel is target if any colour is
        msk = msk[..., :3].max(axis=2)
    values = np.unique(msk)
    if len(values[values != 0]) > 1:
        shown = ', '.join(map(str, values[:6])) + (
            ', ...' if len(values) > 6 else '')
        errors.append(f'{mask_path}: mask is not binary ({len(values)} '
                      f'values: {shown}); the loader counts every non-zero '
                      'pixel as target')
    if not values.any():
        stats.empty_masks += 1


def check_dataset(splits: List[Split]) -> DatasetReport:
    """Check every image and mask of ``splits``.

    Every file is decoded entirely, with the loaders' reader. Problems
    reported: unreadable (corrupt or truncated) files, images without mask,
    masks without image, split-file entries without image, two files with
    one stem, masks of another size than their image, non-binary masks, and
    stems present in several splits (a test image seen in training).
    Counted: pairs, empty masks (frames without target), sizes and pixel
    formats.
    """
    report = DatasetReport()
    owners: Dict[str, List[str]] = {}
    for split in splits:
        errors = report.errors
        stats = report.splits.setdefault(split.name, SplitStats())
        images = _index(split.img_dir, errors)
        masks = _index(split.mask_dir, errors)
        stems = sorted(images) if split.stems is None else split.stems
        for stem in stems:
            if stem not in images:
                errors.append(f'{split.name}: the split file lists {stem!r} '
                              f'but {split.img_dir} has no such image')
                continue
            img_path = osp.join(split.img_dir, images[stem])
            if stem not in masks:
                errors.append(f'{img_path}: no mask {stem}.* in '
                              f'{split.mask_dir}')
                continue
            owners.setdefault(stem, []).append(split.name)
            _check_pair(img_path, osp.join(split.mask_dir, masks[stem]),
                        stats, errors)
        listed = set(stems)
        for stem in sorted(set(masks) - set(images)):
            if split.stems is None or stem in listed:
                errors.append(f'{osp.join(split.mask_dir, masks[stem])}: '
                              f'mask without image in {split.img_dir}')
    shared = {stem: names for stem, names in owners.items()
              if len(set(names)) > 1}
    for stem, names in sorted(shared.items()):
        report.errors.append(f'{stem!r} is in several splits: '
                             f'{", ".join(sorted(set(names)))}')
    return report
