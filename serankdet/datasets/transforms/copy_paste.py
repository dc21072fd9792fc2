"""Target copy-paste augmentation (SAM-SPL's training recipe)."""
from typing import Dict, List, Tuple

import numpy as np
from mmcv.transforms import BaseTransform
from skimage.measure import label, regionprops

from serankdet.registry import TRANSFORMS
from ..image_io import imread_gray, imread_mask

# bank per (data_root, data_prefix, ann_file), built once per process
_BANKS: Dict[tuple, List[Tuple[np.ndarray, np.ndarray]]] = {}


@TRANSFORMS.register_module()
class TargetCopyPaste(BaseTransform):
    """Paste target crops of the training split at random places.

    With probability ``prob``, pastes N ~ U{1..max_pastes} crops, each drawn
    uniformly from the bank, with its top-left corner uniform over the frame
    and clipped at the right/bottom borders. A paste overwrites the whole
    rectangle of the image and of the mask (the crop's background included),
    as SAM-SPL does for IRSTD-1k and NUDT-Sea.

    The bank holds the bounding-box crops (image, 0/1 mask) of every
    8-connected target of the dataset given by ``data_root`` /
    ``data_prefix`` / ``ann_file`` -- point it at the TRAINING split. (The
    reference's IRSTD-1k bank holds crops of all 1001 images, test images
    included, which leaks test targets into training.) It is built on first
    use in each worker process.

    Place it after the crop, on ``img`` (H, W) and ``gt_seg_map`` (H, W).

    Args:
        data_root (str): dataset root.
        data_prefix (dict): ``img_path`` and ``seg_map_path`` folders of the
            training split, relative to ``data_root``.
        ann_file (str): optional split file (see ``IRSTDDataset``).
        prob (float): probability of pasting at all.
        max_pastes (int): largest number of crops pasted.
    """

    def __init__(self,
                 data_root: str,
                 data_prefix: dict = dict(img_path='trainval/images',
                                          seg_map_path='trainval/masks'),
                 ann_file: str = '',
                 prob: float = 0.5,
                 max_pastes: int = 100) -> None:
        if 'img_path' not in data_prefix or 'seg_map_path' not in data_prefix:
            raise KeyError('TargetCopyPaste: data_prefix needs img_path and '
                           f'seg_map_path, got {data_prefix}')
        self.data_root = data_root
        self.data_prefix = dict(data_prefix)
        self.ann_file = ann_file
        self.prob = prob
        self.max_pastes = max_pastes

    @property
    def bank(self) -> List[Tuple[np.ndarray, np.ndarray]]:
        key = (self.data_root, tuple(sorted(self.data_prefix.items())),
               self.ann_file)
        if key not in _BANKS:
            _BANKS[key] = self._build_bank()
        return _BANKS[key]

    def _build_bank(self) -> List[Tuple[np.ndarray, np.ndarray]]:
        from ..irstd import IRSTDDataset  # the dataset imports transforms
        dataset = IRSTDDataset(
            data_root=self.data_root, data_prefix=self.data_prefix,
            ann_file=self.ann_file, pipeline=[], serialize_data=False)
        bank = []
        for info in dataset.data_list:
            img = imread_gray(info['img_path'])
            mask = imread_mask(info['seg_map_path'])
            for region in regionprops(label(mask, connectivity=2)):
                top, left, bottom, right = region.bbox
                bank.append((img[top:bottom, left:right].copy(),
                             mask[top:bottom, left:right].copy()))
        if not bank:
            raise ValueError(
                f'TargetCopyPaste: no target found in {self.data_root} '
                f'{self.data_prefix}: check the training split paths')
        return bank

    def transform(self, results: dict) -> dict:
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
        return (f'{type(self).__name__}(data_root={self.data_root!r}, '
                f'data_prefix={self.data_prefix}, ann_file={self.ann_file!r},'
                f' prob={self.prob}, max_pastes={self.max_pastes})')
