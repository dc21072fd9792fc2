"""Images of a data set: the frames a case draws (spread over sizes, gray
content or all), the colour type a config reads, and the checks of every
training image: the official loaders' reading against ours, and our resize
and blur against Pillow's (beside the cv2 ops they replaced)."""
import os
import os.path as osp
from typing import List, Optional

import cv2
import numpy as np
from PIL import Image

from . import REPO_ROOT
from .pipelines import cv2_blur, cv2_resize


def natural_key(stem):
    import re
    return [int(t) if t.isdigit() else t for t in re.split(r'(\d+)', stem)]


def gray_content(path) -> bool:
    rgb = np.array(Image.open(path).convert('RGB'))
    return bool((rgb[..., 0] == rgb[..., 1]).all()
                and (rgb[..., 0] == rgb[..., 2]).all())


def select_images(root: str, count: int, split: str = 'trainval',
                  gray_only: bool = True) -> List[str]:
    """``count`` stems of ``split`` spread over sizes, among the frames
    with gray content (``gray_only``) or among all of them."""
    folder = osp.join(root, split, 'images')
    stems = sorted((osp.splitext(f)[0] for f in os.listdir(folder)
                    if f.endswith('.png')), key=natural_key)
    if gray_only:
        stems = [s for s in stems
                 if gray_content(osp.join(folder, s + '.png'))]
    sizes = {s: Image.open(osp.join(folder, s + '.png')).size for s in stems}
    by_size = sorted(stems, key=lambda s: (sizes[s][0] * sizes[s][1],
                                           natural_key(s)))
    if len(by_size) <= count:
        return by_size
    pick = np.linspace(0, len(by_size) - 1, count).round().astype(int)
    return [by_size[i] for i in sorted(set(pick.tolist()))]


def config_color_type(config: str) -> str:
    """The colour type of the loader of a config's training pipeline."""
    from mmengine.config import Config
    pipeline = Config.fromfile(osp.join(REPO_ROOT, config)).train_dataloader[
        'dataset']['pipeline']
    return next(t.get('color_type', 'gray') for t in pipeline
                if t['type'] == 'LoadIRSTDImageFromFile')


def colour_images(root: str, stems: List[str],
                  split: str = 'trainval') -> int:
    """How many of ``stems`` have channels that differ."""
    return sum(not gray_content(osp.join(root, split, 'images', s + '.png'))
               for s in stems)


def loader_check(root: str) -> dict:
    """Official loaders' reading of every trainval image/mask vs ours."""
    from serankdet.datasets.image_io import imread_gray, imread_mask
    from serankdet.datasets.transforms import LoadIRSTDImageFromFile
    load_rgb = LoadIRSTDImageFromFile(color_type='rgb')
    folder = osp.join(root, 'trainval')
    stems = sorted(osp.splitext(f)[0]
                   for f in os.listdir(osp.join(folder, 'images'))
                   if f.endswith('.png'))
    res = dict(images=len(stems), rgb_channels_differ=0,
               max_rgb_vs_our_gray=0, pil_L_vs_our_gray_max=0,
               pil_rgb_vs_our_rgb_differing=0, pil_rgb_vs_our_rgb_max=0,
               cv2_gray_vs_ours_differing=0, mask_mismatch_pil=0,
               mask_mismatch_thr127=0, mask_values=set(),
               image_modes={})
    for s in stems:
        ip = osp.join(folder, 'images', s + '.png')
        mp = osp.join(folder, 'masks', s + '.png')
        pil = Image.open(ip)
        res['image_modes'][pil.mode] = res['image_modes'].get(pil.mode,
                                                              0) + 1
        rgb = np.array(pil.convert('RGB')).astype(int)
        ours = imread_gray(ip).astype(int)
        if not ((rgb[..., 0] == rgb[..., 1]).all()
                and (rgb[..., 0] == rgb[..., 2]).all()):
            res['rgb_channels_differ'] += 1
        res['max_rgb_vs_our_gray'] = max(
            res['max_rgb_vs_our_gray'],
            int(np.abs(rgb - ours[..., None]).max()))
        # SeRankDet / SAM-SPL: convert('RGB') against color_type='rgb'
        our_rgb = load_rgb(dict(img_path=ip))['img']
        same = our_rgb.shape == rgb.shape and our_rgb.dtype == np.uint8
        diff = int(np.abs(rgb - our_rgb).max()) if same else -1
        res['pil_rgb_vs_our_rgb_differing'] += int(diff != 0)
        res['pil_rgb_vs_our_rgb_max'] = max(res['pil_rgb_vs_our_rgb_max'],
                                            diff)
        res['pil_L_vs_our_gray_max'] = max(
            res['pil_L_vs_our_gray_max'],
            int(np.abs(np.array(pil.convert('L')).astype(int) - ours).max()))
        # DATransNet: cv2.imdecode(-1) + BGR2GRAY
        raw = cv2.imdecode(np.fromfile(ip, np.uint8), -1)
        if raw.ndim == 3:
            raw = cv2.cvtColor(raw, cv2.COLOR_BGR2GRAY)
        res['cv2_gray_vs_ours_differing'] += int(
            raw.shape != ours.shape or (raw.astype(int) != ours).any())
        mask_l = np.array(Image.open(mp).convert('L'))
        our_mask = imread_mask(mp)
        res['mask_values'].update(int(v) for v in np.unique(mask_l))
        # SeRankDet: convert('L') / 255; SAM-SPL: >= 127 -> 255
        res['mask_mismatch_pil'] += int(
            (mask_l.astype(np.float64) / 255 != our_mask).any())
        res['mask_mismatch_thr127'] += int(((mask_l >= 127) !=
                                            (our_mask == 1)).any())
    res['mask_values'] = sorted(res['mask_values'])
    return res


def ops_check(root: str, base: int, limit: Optional[int] = None) -> dict:
    """The resize and blur ops on every trainval image and mask: ours and
    our former cv2 ops against Pillow (what the official loaders call), at
    long sides 0.5, 0.75, 1, 1.5 and 2 x ``base`` and blur radii 0.1..0.9.
    """
    from PIL import ImageFilter

    from serankdet.datasets.image_io import imread_gray, imread_mask
    from serankdet.datasets.transforms.processing import (
        gaussian_blur_like_pil, resize_like_pil)
    folder = osp.join(root, 'trainval')
    stems = sorted(osp.splitext(f)[0]
                   for f in os.listdir(osp.join(folder, 'images'))
                   if f.endswith('.png'))[:limit]
    res = dict(images=len(stems), resize_cases=0, blur_cases=0,
               ours_img_differing=0, ours_mask_differing=0,
               ours_blur_differing=0, cv2_img_max_diff=0,
               cv2_img_mean_abs_diff_downscale=[],
               cv2_img_mean_abs_diff_upscale=[],
               cv2_img_max_diff_on_targets=0,
               cv2_img_mean_abs_diff_on_targets=[],
               cv2_mask_cases_differing=0, cv2_mask_pixels_differing=0,
               cv2_mask_cases_target_count_changed=0,
               cv2_blur_max_diff=0, cv2_blur_mean_abs_diff=[],
               cv2_blur_max_diff_on_targets=0,
               cv2_blur_cases_unchanged_while_pil_changes=0)
    radii = (0.1, 0.2, 0.3, 0.5, 0.7, 0.9)
    for s in stems:
        img = imread_gray(osp.join(folder, 'images', s + '.png'))
        mask = imread_mask(osp.join(folder, 'masks', s + '.png'))
        h, w = img.shape
        for ratio in (0.5, 0.75, 1.0, 1.5, 2.0):
            long_side = int(base * ratio)
            if h > w:
                nh, nw = long_side, int(w * long_side / h + 0.5)
            else:
                nh, nw = int(h * long_side / w + 0.5), long_side
            ref_img = np.array(Image.fromarray(img).resize(
                (nw, nh), Image.BILINEAR)).astype(int)
            ref_mask = np.array(Image.fromarray(mask).resize(
                (nw, nh), Image.NEAREST)).astype(int)
            res['resize_cases'] += 1
            res['ours_img_differing'] += int(
                (resize_like_pil(img, nw, nh) != ref_img).any())
            res['ours_mask_differing'] += int(
                (resize_like_pil(mask, nw, nh, True) != ref_mask).any())
            diff = np.abs(cv2_resize(img, nw, nh).astype(int) - ref_img)
            res['cv2_img_max_diff'] = max(res['cv2_img_max_diff'],
                                          int(diff.max()))
            key = ('cv2_img_mean_abs_diff_downscale' if nw < w else
                   'cv2_img_mean_abs_diff_upscale')
            if nw != w:
                res[key].append(float(diff.mean()))
            on_target = ref_mask == 1
            if on_target.any():
                res['cv2_img_max_diff_on_targets'] = max(
                    res['cv2_img_max_diff_on_targets'],
                    int(diff[on_target].max()))
                res['cv2_img_mean_abs_diff_on_targets'].append(
                    float(diff[on_target].mean()))
            cm = cv2_resize(mask, nw, nh, nearest=True).astype(int)
            n_diff = int((cm != ref_mask).sum())
            res['cv2_mask_cases_differing'] += int(n_diff > 0)
            res['cv2_mask_pixels_differing'] += n_diff
            res['cv2_mask_cases_target_count_changed'] += int(
                cm.sum() != ref_mask.sum())
        if img.dtype != np.uint8:
            continue
        for radius in radii:
            ref = np.array(Image.fromarray(img).filter(
                ImageFilter.GaussianBlur(radius))).astype(int)
            res['blur_cases'] += 1
            res['ours_blur_differing'] += int(
                (gaussian_blur_like_pil(img, radius) != ref).any())
            cv = cv2_blur(img, radius).astype(int)
            diff = np.abs(cv - ref)
            res['cv2_blur_max_diff'] = max(res['cv2_blur_max_diff'],
                                           int(diff.max()))
            res['cv2_blur_mean_abs_diff'].append(float(diff.mean()))
            if mask.any():
                res['cv2_blur_max_diff_on_targets'] = max(
                    res['cv2_blur_max_diff_on_targets'],
                    int(diff[mask == 1].max()))
            res['cv2_blur_cases_unchanged_while_pil_changes'] += int(
                (cv == img).all() and (ref != img).any())
    for key in ('cv2_img_mean_abs_diff_downscale',
                'cv2_img_mean_abs_diff_upscale', 'cv2_blur_mean_abs_diff',
                'cv2_img_mean_abs_diff_on_targets'):
        values = res[key]
        res[key] = dict(mean=float(np.mean(values)) if values else None,
                        max=float(np.max(values)) if values else None)
    return res
