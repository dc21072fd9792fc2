"""Tiny IRSTD folders with target-free frames, written by the tests of the
negatives recipe (sampler, hard-negative mining, configs)."""
import os.path as osp
from typing import Optional, Sequence

import numpy as np

from serankdet.datasets.image_io import imwrite


def write_frames(folder: str, masks: Sequence[np.ndarray],
                 images: Optional[Sequence[np.ndarray]] = None) -> None:
    """``<folder>/images/f<i>.png`` (uint8; a constant 100 where
    ``images`` is None) and ``<folder>/masks/f<i>.png`` (0/255) for each
    mask i; file names sort in the order given (``f00``, ``f01``, ...)."""
    for i, mask in enumerate(masks):
        image = (np.full(mask.shape, 100, np.uint8)
                 if images is None else images[i])
        imwrite(osp.join(folder, 'images', f'f{i:02d}.png'), image)
        imwrite(osp.join(folder, 'masks', f'f{i:02d}.png'),
                (np.asarray(mask) != 0).astype(np.uint8) * 255)


def target_mask(shape=(8, 8), y: int = 2, x: int = 3) -> np.ndarray:
    """A ``shape`` mask with one target pixel at (y, x)."""
    mask = np.zeros(shape, np.uint8)
    mask[y, x] = 1
    return mask
