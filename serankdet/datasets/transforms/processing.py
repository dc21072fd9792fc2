"""Geometric and photometric transforms of the IRSTD training recipes.

Flip, pad and crop reuse mmcv ``RandomFlip`` / ``Pad`` and mmseg
``RandomCrop``; the transforms here are those without an OpenMMLab
equivalent. Resizing and blurring call Pillow, as the references do
(SeRankDet's and SAM-SPL's data loaders work on PIL images), so that the
outputs are the references' pixel for pixel (see
``benchmarks/augmentation_parity.py``):

* images are resized with ``Image.BILINEAR``. Pillow's bilinear filter
  widens with the reduction factor when shrinking (an anti-aliasing
  low-pass); ``cv2.INTER_LINEAR`` does not (45 gray levels apart on
  SIRST frames) and rounds differently when enlarging;
* masks are resized with ``Image.NEAREST``: the pixel under each output
  pixel centre, ``floor((x + 0.5) * in / out)`` (``cv2.INTER_NEAREST`` is
  shifted by up to half a pixel, ``cv2.INTER_NEAREST_EXACT`` rounds exact
  ties down, e.g. it loses the target of a 1x4 mask [0, 0, 1, 0] shrunk to
  width 3);
* ``ImageFilter.GaussianBlur`` (three extended box blurs, not a sampled
  Gaussian kernel) for 8-bit images.

Pillow handles 2-D uint8, uint16 and float32 arrays for resizing and 2-D
uint8 arrays for blurring; (H, W, C) arrays of those types (RGB frames,
``LoadIRSTDImageFromFile(color_type='rgb')``) go through Pillow channel by
channel, which is what Pillow does to an RGB image, bit for bit. Other
arrays (other dtypes) fall back to ``cv2`` (``INTER_LINEAR`` /
``INTER_NEAREST_EXACT`` / ``GaussianBlur`` with sigma = radius and
replicated borders).
"""
from typing import Callable, Sequence, Tuple, Union

import cv2
import numpy as np
from mmcv.transforms import BaseTransform
from mmcv.transforms.utils import cache_randomness
from PIL import Image, ImageFilter

from serankdet.registry import TRANSFORMS

# array dtypes Pillow resizes as 2-D images (modes L, I;16, F)
_PIL_RESIZE_DTYPES = (np.uint8, np.uint16, np.float32)


def _per_channel(op: Callable[[np.ndarray], np.ndarray],
                 array: np.ndarray) -> np.ndarray:
    """``op`` of each channel of an (H, W, C) array, stacked to
    (H', W', C)."""
    return np.stack([op(array[..., c]) for c in range(array.shape[2])],
                    axis=2)


def resize_like_pil(array: np.ndarray, width: int, height: int,
                    nearest: bool = False) -> np.ndarray:
    """Resize like Pillow's ``Image.resize`` with ``BILINEAR`` (default) or
    ``NEAREST``; a writable array of the same dtype and channels.

    (H, W) and (H, W, C) uint8 / uint16 / float32 arrays go through Pillow
    itself (channel by channel); anything else through ``cv2.resize``
    (``INTER_LINEAR`` / ``INTER_NEAREST_EXACT``).
    """
    if array.dtype in _PIL_RESIZE_DTYPES:
        if array.ndim == 3:
            return _per_channel(
                lambda channel: resize_like_pil(channel, width, height,
                                                nearest), array)
        if array.ndim == 2:
            resample = Image.NEAREST if nearest else Image.BILINEAR
            return np.array(Image.fromarray(array).resize((width, height),
                                                          resample))
    interpolation = cv2.INTER_NEAREST_EXACT if nearest else cv2.INTER_LINEAR
    return cv2.resize(array, (width, height), interpolation=interpolation)


def gaussian_blur_like_pil(img: np.ndarray, radius: float) -> np.ndarray:
    """Pillow's ``ImageFilter.GaussianBlur(radius)`` for (H, W) and
    (H, W, C) uint8 images (three extended box blurs, edges extended; per
    channel); ``cv2.GaussianBlur`` with ``sigma = radius`` and replicated
    borders for other images."""
    if img.dtype == np.uint8:
        if img.ndim == 3:
            return _per_channel(
                lambda channel: gaussian_blur_like_pil(channel, radius), img)
        if img.ndim == 2:
            return np.array(
                Image.fromarray(img).filter(ImageFilter.GaussianBlur(radius)))
    return cv2.GaussianBlur(img, (0, 0), sigmaX=radius, sigmaY=radius,
                            borderType=cv2.BORDER_REPLICATE)


def _resize_sample(results: dict, height: int, width: int) -> None:
    """Resize ``img`` (bilinear) and every ``seg_fields`` map (nearest)."""
    old_h, old_w = results['img'].shape[:2]
    results['img'] = resize_like_pil(results['img'], width, height)
    for key in results.get('seg_fields', []):
        results[key] = resize_like_pil(results[key], width, height,
                                       nearest=True)
    results['img_shape'] = (height, width)
    results['scale_factor'] = (width / old_w, height / old_h)


@TRANSFORMS.register_module()
class RandomRescaleLongSide(BaseTransform):
    """Rescale keeping the aspect ratio, long side drawn at random.

    The long side is an integer drawn uniformly from
    ``[int(base_size * ratio_range[0]), int(base_size * ratio_range[1])]``
    (both ends included, like the references' ``random.randint``); the short
    side is ``int(short * long_new / long_old + 0.5)``. Image bilinear, masks
    nearest. Updates ``img_shape`` and ``scale_factor``.

    Args:
        base_size (int): the dataset's base size (e.g. 512 for IRSTD-1k).
        ratio_range (tuple[float, float]): range of long side / base_size.
    """

    def __init__(self,
                 base_size: int,
                 ratio_range: Tuple[float, float] = (0.5, 2.0)) -> None:
        low, high = int(base_size * ratio_range[0]), int(base_size *
                                                         ratio_range[1])
        if not 1 <= low <= high:
            raise ValueError(
                f'RandomRescaleLongSide: base_size={base_size} and '
                f'ratio_range={ratio_range} give an empty long-side range '
                f'[{low}, {high}]')
        self.base_size = base_size
        self.ratio_range = tuple(ratio_range)
        self.long_side_range = (low, high)

    @cache_randomness
    def _random_long_side(self) -> int:
        low, high = self.long_side_range
        return int(np.random.randint(low, high + 1))

    def transform(self, results: dict) -> dict:
        h, w = results['img'].shape[:2]
        long_side = self._random_long_side()
        if h > w:
            new_h, new_w = long_side, int(w * long_side / h + 0.5)
        else:
            new_h, new_w = int(h * long_side / w + 0.5), long_side
        _resize_sample(results, max(new_h, 1), max(new_w, 1))
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(base_size={self.base_size}, '
                f'ratio_range={self.ratio_range})')


@TRANSFORMS.register_module()
class RandomGaussianBlur(BaseTransform):
    """Blur the image (never the mask) with a random Gaussian.

    With probability ``prob``, draws ``radius ~ U(radius_range)`` and applies
    Pillow's ``ImageFilter.GaussianBlur(radius)`` as the references do (it
    approximates a Gaussian of standard deviation ``radius`` by three box
    blurs and extends edges), to each channel of an (H, W, 3) image.
    Images other than uint8 get ``cv2.GaussianBlur`` with
    ``sigma = radius`` and replicated borders, which blurs less at small
    radii (below about 0.3 it leaves 8-bit images unchanged, Pillow does
    not).

    Args:
        prob (float): probability to blur.
        radius_range (tuple[float, float]): range of the Gaussian sigma in
            pixels.
    """

    def __init__(self,
                 prob: float = 0.5,
                 radius_range: Tuple[float, float] = (0.0, 1.0)) -> None:
        if not 0 <= prob <= 1:
            raise ValueError(f'RandomGaussianBlur: prob must be in [0, 1], '
                             f'got {prob}')
        self.prob = prob
        self.radius_range = tuple(radius_range)

    @cache_randomness
    def _random_radius(self) -> float:
        """The radius to blur with, 0 when no blur is drawn."""
        if np.random.rand() >= self.prob:
            return 0.0
        return float(np.random.uniform(*self.radius_range))

    def transform(self, results: dict) -> dict:
        radius = self._random_radius()
        if radius > 0:
            results['img'] = gaussian_blur_like_pil(results['img'], radius)
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(prob={self.prob}, '
                f'radius_range={self.radius_range})')


@TRANSFORMS.register_module()
class LegacyTestResize(BaseTransform):
    """Resize image and mask to a fixed size and score at that size.

    The references' test protocol: image bilinear and mask nearest (as
    Pillow resizes, like the references) to ``size`` (e.g. 512x512 for
    SIRST), metrics (including the Fa pixel count) at the resized
    resolution. ``ori_shape`` is therefore set to the
    new size, so predictions are returned at ``size`` too. Place it after
    the loaders. The toolbox's default protocol does not resize: it scores
    at the native size (the preprocessor pads to the network stride and the
    segmentor removes the padding).

    Args:
        size (int | tuple[int, int]): output (H, W); an int means square.
    """

    def __init__(self, size: Union[int, Sequence[int]]) -> None:
        self.size = (size, size) if isinstance(size, int) else tuple(size)

    def transform(self, results: dict) -> dict:
        _resize_sample(results, *self.size)
        results['ori_shape'] = self.size
        return results

    def __repr__(self) -> str:
        return f'{type(self).__name__}(size={self.size})'


@TRANSFORMS.register_module()
class RandomTranspose(BaseTransform):
    """Swap the H and W axes of ``img`` and every seg field with probability
    ``prob`` (SAM-SPL's NUDT-SIRST augmentation, with both flips)."""

    def __init__(self, prob: float = 0.5) -> None:
        self.prob = prob

    def transform(self, results: dict) -> dict:
        if np.random.rand() >= self.prob:
            return results
        for key in ['img'] + list(results.get('seg_fields', [])):
            value = results[key]
            axes = (1, 0) + tuple(range(2, value.ndim))
            results[key] = np.ascontiguousarray(value.transpose(axes))
        results['img_shape'] = results['img'].shape[:2]
        return results

    def __repr__(self) -> str:
        return f'{type(self).__name__}(prob={self.prob})'


@TRANSFORMS.register_module()
class TargetBiasedRandomCrop(BaseTransform):
    """A ``crop_size`` (h, w) crop of ``img`` and every seg field, biased
    towards the targets of ``gt_seg_map`` (target: a non-zero pixel) as the
    BasicIRSTD family of training loaders does, by one of two rules:

    * ``'around_pixel'`` (BasicIRSTD's ``random_crop(..., pos_prob)``, its
      ACM and ALCNet recipes): with probability ``target_prob``, when the
      frame has a target pixel, one target pixel (y, x) is drawn uniformly
      among all of them and the top-left corner uniformly from
      ``[max(0, y - h), min(y, H - h)]`` (likewise for x), ends included;
      otherwise the corner is uniform. The lower bound ``y - h`` is
      BasicIRSTD's: at that corner the pixel lies one row below the crop,
      so about 1/h of these crops miss it.
    * ``'redraw'`` (SCTransNet's ``random_crop``): draw a uniform crop; keep
      it with probability ``1 - target_prob``, else keep it only if it
      holds a target pixel, and draw again otherwise. A frame without
      targets always gets a uniform crop.

    The frame must be at least ``crop_size`` (pad it first, e.g. with
    mmcv's ``Pad``, as both references do).
    """

    RULES = ('around_pixel', 'redraw')

    def __init__(self, crop_size: Tuple[int, int], target_prob: float = 0.5,
                 rule: str = 'around_pixel') -> None:
        if not 0 <= target_prob <= 1:
            raise ValueError(
                f'target_prob must be in [0, 1], got {target_prob}')
        if rule not in self.RULES:
            raise ValueError(f'rule must be one of {self.RULES}, got {rule!r}')
        self.crop_size = tuple(crop_size)
        self.target_prob = target_prob
        self.rule = rule

    def _uniform_corner(self, height: int, width: int) -> Tuple[int, int]:
        return (np.random.randint(height - self.crop_size[0] + 1),
                np.random.randint(width - self.crop_size[1] + 1))

    @cache_randomness
    def _corner(self, results: dict) -> Tuple[int, int]:
        """The crop's top-left corner (y, x) in the frame of
        ``results``."""
        seg = results['gt_seg_map']
        (crop_h, crop_w), (height, width) = self.crop_size, seg.shape[:2]
        target = seg != 0
        if not target.any():
            return self._uniform_corner(height, width)
        if self.rule == 'redraw':
            while True:
                top, left = self._uniform_corner(height, width)
                if np.random.rand() >= self.target_prob or \
                        target[top:top + crop_h, left:left + crop_w].any():
                    return top, left
        if np.random.rand() >= self.target_prob:
            return self._uniform_corner(height, width)
        ys, xs = np.nonzero(target)
        index = np.random.randint(len(ys))
        y, x = int(ys[index]), int(xs[index])
        return (np.random.randint(max(0, y - crop_h),
                                  min(y, height - crop_h) + 1),
                np.random.randint(max(0, x - crop_w),
                                  min(x, width - crop_w) + 1))

    def transform(self, results: dict) -> dict:
        height, width = results['img'].shape[:2]
        crop_h, crop_w = self.crop_size
        if height < crop_h or width < crop_w:
            raise ValueError(
                f'{type(self).__name__}: a {height}x{width} frame is smaller '
                f'than the {crop_h}x{crop_w} crop; pad it first (Pad with '
                f'size={crop_w, crop_h})')
        top, left = self._corner(results)
        for key in ['img'] + list(results.get('seg_fields', [])):
            results[key] = results[key][top:top + crop_h, left:left + crop_w]
        results['img_shape'] = (crop_h, crop_w)
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(crop_size={self.crop_size}, '
                f'target_prob={self.target_prob}, rule={self.rule!r})')
