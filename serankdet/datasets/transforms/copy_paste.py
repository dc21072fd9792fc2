"""Target copy-paste augmentation (SAM-SPL's training recipe)."""
from typing import Iterable, List, Optional, Tuple

import numpy as np
from mmcv.transforms import BaseTransform
from skimage.measure import label, regionprops

from serankdet.registry import TRANSFORMS
from ..image_io import imread_gray, imread_mask, imread_rgb

TargetBank = List[Tuple[np.ndarray, np.ndarray]]


def build_target_bank(data_infos: Iterable[dict],
                      backend_args: Optional[dict] = None,
                      color_type: str = 'gray') -> TargetBank:
    """The bounding-box crops (image, 0/1 mask) of every 8-connected target
    of the samples ``data_infos`` (dicts with ``img_path`` and
    ``seg_map_path``), in sample order, then in scan order of the targets.

    Image crops are read as the pipeline's loader reads its frames:
    (h, w) for ``color_type='gray'``, (h, w, 3) RGB for ``'rgb'`` (SAM-SPL
    reads its crops with ``convert('RGB')``); mask crops are (h, w).
    """
    read = imread_rgb if color_type == 'rgb' else imread_gray
    bank, count = [], 0
    for info in data_infos:
        count += 1
        if info.get('seg_map_path') is None:
            raise ValueError('TargetCopyPaste needs a dataset with masks, '
                             f"{info['img_path']} has none")
        img = read(info['img_path'], backend_args)
        mask = imread_mask(info['seg_map_path'], backend_args)
        for region in regionprops(label(mask, connectivity=2)):
            top, left, bottom, right = region.bbox
            bank.append((img[top:bottom, left:right].copy(),
                         mask[top:bottom, left:right].copy()))
    if not bank:
        raise ValueError(f'TargetCopyPaste: none of the {count} samples of '
                         'the dataset holds a target')
    return bank


@TRANSFORMS.register_module()
class TargetCopyPaste(BaseTransform):
    """Paste target crops of the dataset at random places.

    With probability ``prob``, pastes N ~ U{1..max_pastes} crops, each drawn
    uniformly from the bank, with its top-left corner uniform over the frame
    and clipped at the right/bottom borders. A paste overwrites the whole
    rectangle of the image and of the mask (the crop's background included),
    as SAM-SPL does for IRSTD-1k and NUDT-Sea.

    The bank holds the bounding-box crops (image, 0/1 mask) of every
    8-connected target of the dataset whose pipeline holds this transform
    (:func:`build_target_bank`): :class:`~serankdet.datasets.IRSTDDataset`
    builds it once, when it indexes its samples, and sets :attr:`bank`. In
    the training dataset these are the targets of the training split. (The
    reference's IRSTD-1k bank holds crops of all 1001 images, test images
    included, which leaks test targets into training.) Used on its own, the
    transform needs :attr:`bank` set first.

    Place it after the crop, on ``img`` (H, W) or (H, W, 3) and
    ``gt_seg_map`` (H, W); the crops have the channels of ``img`` (the
    dataset reads them with the colour type of its pipeline's
    ``LoadIRSTDImageFromFile``).

    Args:
        prob (float): probability of pasting at all.
        max_pastes (int): largest number of crops pasted.
    """

    def __init__(self, prob: float = 0.5, max_pastes: int = 100) -> None:
        self.prob = prob
        self.max_pastes = max_pastes
        self.bank: Optional[TargetBank] = None

    def transform(self, results: dict) -> dict:
        if self.bank is None:
            raise RuntimeError(
                'TargetCopyPaste has no target bank: it pastes the targets '
                'of the dataset whose pipeline holds it, which IRSTDDataset '
                'hands over when it indexes its samples; used alone, set its '
                'bank (build_target_bank) first')
        if np.random.rand() >= self.prob:
            return results
        img, mask = results['img'], results['gt_seg_map']
        height, width = mask.shape[:2]
        bank = self.bank
        for _ in range(np.random.randint(1, self.max_pastes + 1)):
            crop_img, crop_mask = bank[np.random.randint(len(bank))]
            top, left = np.random.randint(height), np.random.randint(width)
            h = min(crop_mask.shape[0], height - top)
            w = min(crop_mask.shape[1], width - left)
            img[top:top + h, left:left + w] = crop_img[:h, :w]
            mask[top:top + h, left:left + w] = crop_mask[:h, :w]
        return results

    def __repr__(self) -> str:
        bank = 'None' if self.bank is None else f'{len(self.bank)} crops'
        return (f'{type(self).__name__}(prob={self.prob}, '
                f'max_pastes={self.max_pastes}, bank={bank})')
