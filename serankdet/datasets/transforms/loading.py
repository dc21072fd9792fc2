"""Loading IR frames and target masks."""
from typing import Optional

import numpy as np
from mmcv.transforms import BaseTransform

from serankdet.registry import TRANSFORMS
from ..image_io import (InvalidSampleError, check_intensities, imread_gray,
                        imread_mask, max_value_of, to_gray)


@TRANSFORMS.register_module()
class LoadIRSTDImageFromFile(BaseTransform):
    """Load a frame as one channel at its native bit depth.

    Reads ``results['img_path']`` (8/16-bit PNG and TIFF, float TIFF, JPEG,
    BMP; colour, alpha and palette images become BT.601 luma, see
    :mod:`serankdet.datasets.image_io`). When ``results['img']`` already
    holds an array and there is no ``img_path`` (inference APIs), that array
    is used instead; colour arrays are taken in OpenCV's BGR(A) order.

    Added keys: ``img`` (H, W) uint8/uint16/float32, ``img_max_value``
    (255, 65535, 1.0 for floats, or ``max_value``), ``img_shape`` and
    ``ori_shape`` (H, W). Scaling to [0, 1] and any normalization happen in
    the model's data preprocessor. Float frames must hold finite values in
    ``[0, img_max_value]`` (see
    :func:`~serankdet.datasets.image_io.check_intensities`), or
    :class:`InvalidSampleError` names the frame.

    Args:
        max_value (float, optional): full-scale value to record instead of
            the one implied by the dtype, e.g. 4095 for 12-bit data stored
            in 16-bit files.
        backend_args (dict, optional): mmengine file backend arguments.
    """

    def __init__(self,
                 max_value: Optional[float] = None,
                 backend_args: Optional[dict] = None) -> None:
        self.max_value = max_value
        self.backend_args = backend_args

    def transform(self, results: dict) -> dict:
        if results.get('img_path') is not None:
            img = imread_gray(results['img_path'], self.backend_args)
        elif isinstance(results.get('img'), np.ndarray):
            img = to_gray(results['img'], 'input array')
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
                f'backend_args={self.backend_args})')


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
