"""Loading IR frames and target masks."""
from typing import Optional

import numpy as np
from mmcv.transforms import BaseTransform

from serankdet.registry import TRANSFORMS
from ..image_io import (InvalidSampleError, check_intensities, imread_gray,
                        imread_mask, imread_rgb, max_value_of, to_gray,
                        to_rgb)


@TRANSFORMS.register_module()
class LoadIRSTDImageFromFile(BaseTransform):
    """Load a frame at its native bit depth, as one channel or as RGB.

    Reads ``results['img_path']`` (8/16-bit PNG and TIFF, float TIFF, JPEG,
    BMP). With ``color_type='gray'`` colour, alpha and palette images
    become BT.601 luma; with ``'rgb'`` every image becomes three channels
    in RGB order as PIL ``Image.open(path).convert('RGB')`` gives them (the
    loaders of SeRankDet and SAM-SPL): gray replicated, alpha dropped,
    palettes expanded (see :mod:`serankdet.datasets.image_io`). When
    ``results['img']`` already holds an array and there is no ``img_path``
    (inference APIs), that array is used instead; colour arrays are taken
    in OpenCV's BGR(A) order.

    Added keys: ``img`` (H, W) for ``'gray'`` or (H, W, 3) for ``'rgb'``,
    uint8/uint16/float32; ``img_max_value`` (255, 65535, 1.0 for floats, or
    ``max_value``); ``img_shape`` and ``ori_shape`` (H, W). Scaling to
    [0, 1] and any normalization happen in the model's data preprocessor.
    Float frames must hold finite values in ``[0, img_max_value]`` (see
    :func:`~serankdet.datasets.image_io.check_intensities`), or
    :class:`InvalidSampleError` names the frame.

    Args:
        max_value (float, optional): full-scale value to record instead of
            the one implied by the dtype, e.g. 4095 for 12-bit data stored
            in 16-bit files.
        backend_args (dict, optional): mmengine file backend arguments.
        color_type (str): ``'gray'`` (default) or ``'rgb'``.
    """

    COLOR_TYPES = ('gray', 'rgb')

    def __init__(self,
                 max_value: Optional[float] = None,
                 backend_args: Optional[dict] = None,
                 color_type: str = 'gray') -> None:
        if color_type not in self.COLOR_TYPES:
            raise ValueError(f'color_type must be one of {self.COLOR_TYPES}, '
                             f'got {color_type!r}')
        self.max_value = max_value
        self.backend_args = backend_args
        self.color_type = color_type

    def transform(self, results: dict) -> dict:
        rgb = self.color_type == 'rgb'
        if results.get('img_path') is not None:
            read = imread_rgb if rgb else imread_gray
            img = read(results['img_path'], self.backend_args)
        elif isinstance(results.get('img'), np.ndarray):
            convert = to_rgb if rgb else to_gray
            img = convert(results['img'], 'input array')
        else:
            raise KeyError("LoadIRSTDImageFromFile needs 'img_path' or an "
                           "ndarray in 'img'")
        name = results.get('img_path') or 'input array'
        max_value = (self.max_value if self.max_value is not None else
                     max_value_of(img.dtype, name))
        check_intensities(img, max_value, name)
        results['img'] = img
        results['img_max_value'] = max_value
        results['img_shape'] = img.shape[:2]
        results['ori_shape'] = img.shape[:2]
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(max_value={self.max_value}, '
                f'backend_args={self.backend_args}, '
                f'color_type={self.color_type!r})')


@TRANSFORMS.register_module()
class LoadIRSTDAnnotations(BaseTransform):
    """Load the target mask: any non-zero pixel is target.

    Sets ``gt_seg_map`` (H, W) uint8 in {0, 1} and appends it to
    ``seg_fields``. Samples without ``seg_map_path`` (inference) pass
    through unchanged. A mask whose size differs from the image loaded
    before it (``ori_shape``) raises :class:`InvalidSampleError` naming both
    files.

    Args:
        backend_args (dict, optional): mmengine file backend arguments.
    """

    def __init__(self, backend_args: Optional[dict] = None) -> None:
        self.backend_args = backend_args

    def transform(self, results: dict) -> dict:
        path = results.get('seg_map_path')
        if path is None:
            return results
        mask = imread_mask(path, self.backend_args)
        img_shape = results.get('ori_shape')
        if img_shape is not None and tuple(mask.shape) != tuple(img_shape):
            raise InvalidSampleError(
                f'mask {path} is {mask.shape[1]}x{mask.shape[0]} but its '
                f'image {results.get("img_path")} is {img_shape[1]}x'
                f'{img_shape[0]} (WxH)')
        results['gt_seg_map'] = mask
        results.setdefault('seg_fields', []).append('gt_seg_map')
        return results

    def __repr__(self) -> str:
        return f'{type(self).__name__}(backend_args={self.backend_args})'
