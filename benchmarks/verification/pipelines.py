"""Our training pipeline as the augmentation check runs it (the config's
dataset and the model's data preprocessor), with the cv2 ops it had before
the parity fix, and the pixel comparison of both sides' network inputs."""
import contextlib
import math
import os.path as osp
from typing import List

import cv2
import numpy as np
import torch

from . import REPO_ROOT
from .data_hooks import NumpyRandom, ParityError, rng_states, same_states


def build_ours(config: str, data_root: str, bank=None):
    """Our training dataset (the config's pipeline) and the model's data
    preprocessor. ``bank`` replaces the bank the dataset gives its
    TargetCopyPaste (the targets of its own samples)."""
    from mmengine.config import Config

    from serankdet.datasets.transforms import TargetCopyPaste
    from serankdet.registry import DATASETS, MODELS
    cfg = Config.fromfile(osp.join(REPO_ROOT, config))
    ds_cfg = cfg.train_dataloader.dataset
    ds_cfg.data_root = data_root
    dataset = DATASETS.build(ds_cfg)
    if bank is not None:
        for t in dataset.pipeline.transforms:
            if isinstance(t, TargetCopyPaste):
                t.bank = bank
    pre = MODELS.build(cfg.model.data_preprocessor)
    index = {osp.splitext(osp.basename(dataset.get_data_info(i)['img_path']))
             [0]: i for i in range(len(dataset))}
    return dataset, pre, index, cfg


def run_ours(dataset, pre, idx: int, rng: NumpyRandom):
    before = rng_states()
    with rng:
        packed = dataset[idx]
    if not same_states(before, rng_states()):
        raise ParityError('our pipeline drew from a global generator')
    out = pre(dict(inputs=[packed['inputs']],
                   data_samples=[packed['data_samples']]), training=True)
    img = out['inputs'][0]
    mask = out['data_samples'][0].gt_sem_seg.data
    return img, mask, packed


def cv2_resize(array, width, height, nearest=False):
    """Our resize before the parity fix."""
    inter = cv2.INTER_NEAREST_EXACT if nearest else cv2.INTER_LINEAR
    return cv2.resize(array, (width, height), interpolation=inter)


def cv2_blur(img, radius):
    """Our blur before the parity fix."""
    return cv2.GaussianBlur(img, (0, 0), sigmaX=radius, sigmaY=radius,
                            borderType=cv2.BORDER_REPLICATE)


@contextlib.contextmanager
def former_cv2_ops(resize: bool = True, blur: bool = True):
    """Our transforms with the ops they had before the parity fix: cv2
    resize (INTER_LINEAR / INTER_NEAREST_EXACT) and/or cv2 Gaussian blur."""
    from serankdet.datasets.transforms import processing
    saved = processing.resize_like_pil, processing.gaussian_blur_like_pil
    if resize:
        processing.resize_like_pil = cv2_resize
    if blur:
        processing.gaussian_blur_like_pil = cv2_blur
    try:
        yield
    finally:
        processing.resize_like_pil, processing.gaussian_blur_like_pil = saved


# variants of our side replayed in the pixel-exact part
VARIANTS = {
    'exact': lambda: contextlib.nullcontext(),
    'exact_former_cv2_resize': lambda: former_cv2_ops(blur=False),
    'exact_former_cv2_blur': lambda: former_cv2_ops(resize=False),
}


VARIANT_LABELS = {
    'exact': 'ours',
    'exact_former_cv2_resize': 'ours with the former cv2 resize',
    'exact_former_cv2_blur': 'ours with the former cv2 blur',
}


def compare_pixels(off_img, off_mask, our_img, our_mask, std255) -> dict:
    """Pixel comparison of the network inputs and masks."""
    off_img = torch.as_tensor(off_img).float()
    our_img = our_img.float()
    res = dict(shape_official=list(off_img.shape),
               shape_ours=list(our_img.shape))
    if off_img.shape != our_img.shape:
        res['same_shape'] = False
        return res
    diff = (off_img - our_img).abs()
    res['same_shape'] = True
    res['img_max_abs'] = float(diff.max())
    # in gray levels of the 8-bit source: normalised diff x std x 255
    res['img_max_gray_levels'] = float(
        (diff * torch.as_tensor(std255).view(-1, 1, 1)).max())
    res['img_pixels_differing'] = int((diff.amax(0) > 1e-4).sum())
    res['img_pixels_differing_1e-6'] = int((diff.amax(0) > 1e-6).sum())
    om = torch.as_tensor(off_mask).float().reshape(our_mask.shape)
    res['mask_pixels_differing'] = int((om != our_mask.float()).sum())
    return res


def summarise_exact(rows: List[dict]) -> dict:
    same = [r for r in rows if r.get('same_shape')]
    out = dict(samples=len(rows), same_shape=len(same))
    if same:
        out['img_max_abs'] = max(r['img_max_abs'] for r in same)
        out['img_max_gray_levels'] = max(r['img_max_gray_levels']
                                         for r in same)
        out['img_pixels_differing'] = sum(r['img_pixels_differing']
                                          for r in same)
        out['img_pixels_differing_1e-6'] = sum(
            r['img_pixels_differing_1e-6'] for r in same)
        out['mask_pixels_differing'] = sum(r['mask_pixels_differing']
                                           for r in same)
        out['samples_bit_exact'] = sum(
            r['img_max_abs'] == 0 and r['mask_pixels_differing'] == 0
            for r in same)
        out['samples_within_1e-4'] = sum(
            r['img_pixels_differing'] == 0 and r['mask_pixels_differing'] == 0
            for r in same)
    return out


class OutputStats:
    """Shapes, dtypes and value ranges of the outputs of one side."""

    def __init__(self):
        self.shapes, self.dtypes, self.mask_values = set(), set(), set()
        self.img_min, self.img_max = math.inf, -math.inf

    def add(self, img, mask):
        img = torch.as_tensor(img)
        mask = torch.as_tensor(mask)
        self.shapes.add(tuple(img.shape))
        self.dtypes.add(f'{img.dtype} / mask {mask.dtype}')
        self.img_min = min(self.img_min, float(img.min()))
        self.img_max = max(self.img_max, float(img.max()))
        self.mask_values.update(float(v) for v in torch.unique(mask))

    def as_dict(self):
        return dict(shapes=sorted(list(s) for s in self.shapes),
                    dtypes=sorted(self.dtypes),
                    img_range=[self.img_min, self.img_max],
                    mask_values=sorted(self.mask_values))


def affine_constants(mean, std) -> List[list]:
    """(mean, std) pairs per channel on the 0-255 scale."""
    return [[float(m), float(s)] for m, s in zip(mean, std)]


def normalisation_error(off, ours) -> float:
    """Largest |official - ours| normalised value over x = 0..255, float64
    (the constants alone, without float32 rounding)."""
    x = np.arange(256, dtype=np.float64)
    worst = 0.0
    for (mo, so), (mu, su) in zip(off, ours):
        worst = max(worst, float(np.abs((x - mo) / so - (x - mu) / su).max()))
    return worst
