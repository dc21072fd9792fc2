"""The official data code on our data layout: the files laid out (linked)
as each official dataset class reads them, and its test items at native
size."""
import dataclasses
import os
import os.path as osp
from typing import Callable, Dict, List, Optional, Tuple

import numpy as np
import torch

from .references import chdir
from .settings import ParitySpec


SPLITS = ('trainval', 'test')


def split_stems(data_root: str, split: str,
                limit: Optional[int] = None) -> List[str]:
    """Stems of a split, sorted (as our dataset orders them); the first
    ``limit`` only when given."""
    folder = osp.join(data_root, split, 'images')
    if not osp.isdir(folder):
        raise FileNotFoundError(
            f'{folder} not found: --data-root must hold '
            '{trainval,test}/{images,masks} (see datasets/README.md)')
    stems = sorted(osp.splitext(name)[0] for name in os.listdir(folder))
    return stems[:limit] if limit else stems


def link_split(data_root: str, split: str, stems: List[str],
               images_dir: str, masks_dir: str) -> None:
    """Link the image and mask of every stem of ``split`` into the two
    folders."""
    for sub, folder in (('images', images_dir), ('masks', masks_dir)):
        os.makedirs(folder, exist_ok=True)
        for stem in stems:
            os.symlink(
                osp.abspath(osp.join(data_root, split, sub, stem + '.png')),
                osp.join(folder, stem + '.png'))


def write_list(path: str, stems: List[str]) -> None:
    os.makedirs(osp.dirname(path), exist_ok=True)
    with open(path, 'w') as f:
        f.write('\n'.join(stems) + '\n')


def datransnet_datasets(module, spec: ParitySpec, data_root: str,
                        stems: Dict[str, List[str]], tmp: str):
    """DATransNet ``utils/datasets.py``: ``<base>/{images,masks}`` hold both
    splits, ``<base>/img_idx/{train,test}_<dataset>.txt`` list them."""
    base = osp.join(tmp, spec.dataset)
    for split, listed in zip(SPLITS, ('train', 'test')):
        link_split(data_root, split, stems[split], osp.join(base, 'images'),
                   osp.join(base, 'masks'))
        write_list(osp.join(base, 'img_idx', f'{listed}_{spec.dataset}.txt'),
                   stems[split])
    loader_cls = getattr(module, spec.official_dataset)
    return (loader_cls(base_dir=base, mode='trainval'),
            loader_cls(base_dir=base, mode='test'))


def samspl_datasets(module, spec: ParitySpec, data_root: str,
                    stems: Dict[str, List[str]], tmp: str):
    """SAM-SPL ``dataset/image_floder.py``: ``<path>/<dataset>/{images,
    masks}`` hold both splits, listed by ``./dataset/set_configs/<dataset>/
    {train,test}.txt`` relative to the working directory (read when the
    dataset is built); ``training.py`` builds both with base and crop
    ``--image_size``."""
    path, cwd = osp.join(tmp, 'data'), osp.join(tmp, 'cwd')
    for split, listed in zip(SPLITS, ('train', 'test')):
        link_split(data_root, split, stems[split],
                   osp.join(path, spec.dataset, 'images'),
                   osp.join(path, spec.dataset, 'masks'))
        write_list(osp.join(cwd, 'dataset', 'set_configs', spec.dataset,
                            f'{listed}.txt'), stems[split])
    dataset_cls = getattr(module, spec.official_dataset)
    with chdir(cwd):
        return tuple(
            dataset_cls(path, spec.dataset, istraining=training,
                        base_size=spec.size, crop_size=spec.size)
            for training in (True, False))


def serankdet_datasets(module, spec: ParitySpec, data_root: str,
                       stems: Dict[str, List[str]], tmp: str):
    """SeRankDet ``utils/data.py``: our own layout ``<root>/{trainval,test}/
    {images,masks}``; ``build/build_dataset.py`` builds ``mode='train'`` and
    ``mode='test'`` from the dataset config (base and crop ``size``,
    ``data_aug=True``)."""
    root = osp.join(tmp, spec.dataset)
    for split in SPLITS:
        link_split(data_root, split, stems[split],
                   osp.join(root, split, 'images'),
                   osp.join(root, split, 'masks'))
    dataset_cls = getattr(module, spec.official_dataset)
    settings = dict(data_root=root, base_size=spec.size, crop_size=spec.size,
                    train_dir='trainval', test_dir='test', data_aug=True,
                    suffix='png')
    return (dataset_cls(mode='train', **settings),
            dataset_cls(mode='test', **settings))


def dataset_item(test_set, index: int) -> Tuple[torch.Tensor, torch.Tensor]:
    """The official test item itself (DATransNet, SAM-SPL's NUDT-SIRST
    branch: native size, normalised): network input (1, C, H, W) and mask
    (H, W) bool."""
    img, mask = test_set[index][:2]
    return img[None], mask[0] > 0.5


def serankdet_native_item(test_set,
                          index: int) -> Tuple[torch.Tensor, torch.Tensor]:
    """SeRankDet's test mode resizes to the base size; here the NATIVE
    frame goes through the same reading (PIL RGB / L) and the dataset's own
    ``rgb_transform`` (ImageNet normalisation), the mask through its
    ``ToTensor`` scale (/255) and the 0.5 threshold."""
    from PIL import Image
    name = test_set.img_names[index]
    img = Image.open(osp.join(test_set.data_dir, 'images', name))
    mask = Image.open(osp.join(test_set.data_dir, 'masks', name))
    img = test_set.rgb_transform(np.array(img.convert('RGB')))
    mask = torch.from_numpy(np.array(mask.convert('L')) / 255.0)
    return img[None], mask > 0.5


@dataclasses.dataclass
class OfficialData:
    """How one official training script reads a data set.

    Attributes:
        module: the name :func:`verification.references.load_official`
            loads its data code by.
        datasets: ``(module, spec, data_root, stems per split, tmp) ->
            (train set, test set)``: the files laid out as the official
            class reads them (links to ours) and both sets built.
        test_item: ``(test set, index) -> (input (1, C, H, W), mask (H, W)
            bool)`` at native size.
    """
    module: str
    datasets: Callable
    test_item: Callable


OFFICIAL_DATA: Dict[str, OfficialData] = {
    'datransnet': OfficialData('datransnet', datransnet_datasets,
                               dataset_item),
    'samspl': OfficialData('samspl', samspl_datasets, dataset_item),
    'serankdet': OfficialData('serankdet', serankdet_datasets,
                              serankdet_native_item),
}


def samspl_folder(module, ref_root, tmp, data_root, data_set, stems,
                  base_size):
    """SAM-SPL's ImageFolder over our trainval images: ``<tmp>/<data_set>/
    {images,masks}`` link to them, ``Target_{image,mask}`` to the
    checkout's IRSTD-1k bank, and the split file it reads from
    ``./dataset/set_configs/<data_set>/train.txt`` lists ``stems``."""
    base = osp.join(tmp, 'samspl', data_set)
    os.makedirs(base, exist_ok=True)
    for sub in ('images', 'masks'):
        link = osp.join(base, sub)
        if not osp.exists(link):
            os.symlink(osp.abspath(osp.join(data_root, 'trainval', sub)),
                       link)
    bank = osp.join(ref_root, 'dataset', 'IRSTD-1k')
    for sub in ('Target_image', 'Target_mask'):
        link = osp.join(base, sub)
        if not osp.exists(link):
            os.symlink(osp.abspath(osp.join(bank, sub)), link)
    cfg_dir = osp.join(tmp, 'samspl_cwd', 'dataset', 'set_configs', data_set)
    os.makedirs(cfg_dir, exist_ok=True)
    with open(osp.join(cfg_dir, 'train.txt'), 'w') as f:
        f.write('\n'.join(stems) + '\n')
    with chdir(osp.join(tmp, 'samspl_cwd')):
        return module.ImageFolder(osp.join(tmp, 'samspl'), data_set=data_set,
                                  istraining=True, base_size=base_size,
                                  crop_size=base_size, copy_paste=True)


def official_bank_for_ours(ref_root: str, color_type: str = 'gray'):
    """The checkout's IRSTD-1k crops as our TargetCopyPaste bank, in the
    order the official code indexes them (two os.listdir calls paired by
    position), read with our loaders (the images as ``color_type``)."""
    from serankdet.datasets.image_io import (imread_gray, imread_mask,
                                             imread_rgb)
    read = imread_rgb if color_type == 'rgb' else imread_gray
    base = osp.join(ref_root, 'dataset', 'IRSTD-1k')
    imgs = os.listdir(osp.join(base, 'Target_image'))
    masks = os.listdir(osp.join(base, 'Target_mask'))
    return [(read(osp.join(base, 'Target_image', i)),
             imread_mask(osp.join(base, 'Target_mask', m)))
            for i, m in zip(imgs, masks)]
