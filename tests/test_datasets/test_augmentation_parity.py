"""Resize, blur and normalisation as the official loaders do them.

The references (SeRankDet's and SAM-SPL's data loaders) resize and blur PIL
images; ``benchmarks/augmentation_parity.py`` checks our pipelines against
them pixel for pixel. These tests pin the behaviour with hand-computed
values and need no checkout.
"""
import os.path as osp

import numpy as np
import pytest
from mmengine.config import Config

from serankdet.registry import TRANSFORMS

CONFIGS = osp.join(osp.dirname(osp.dirname(osp.dirname(
    osp.abspath(__file__)))), 'configs')


def _rescale_to(long_side, img, mask):
    t = TRANSFORMS.build(dict(type='RandomRescaleLongSide',
                              base_size=long_side, ratio_range=(1.0, 1.0)))
    return t(dict(img=img, gt_seg_map=mask, seg_fields=['gt_seg_map'],
                  img_shape=img.shape, ori_shape=img.shape))


def test_shrinking_filters_like_pillow_bilinear():
    # 4x8, left half 255: shrink 4x to 1x2. Pillow's bilinear filter widens
    # to +-4 source pixels at 4x reduction: output x=0 is centred on source
    # 2.0 and weighs source pixels 0..5 by 1 - |x + 0.5 - 2| / 4 =
    # .625 .875 .875 .625 .375 .125 (sum 3.5), so 255 * 3 / 3.5 = 218.6;
    # output x=1 (centre 6.0) weighs pixels 2..7 by .125 .375 .625 .875
    # .875 .625, so 255 * .5 / 3.5 = 36.4. (cv2.INTER_LINEAR: 255, 0.)
    img = np.zeros((4, 8), np.uint8)
    img[:, :4] = 255
    out = _rescale_to(2, img, (img > 0).astype(np.uint8))
    np.testing.assert_array_equal(out['img'], [[219, 36]])
    # nearest: source pixel floor((x + 0.5) * 4) = 2 and 6
    np.testing.assert_array_equal(out['gt_seg_map'], [[1, 0]])
    assert out['img'].flags.writeable and out['gt_seg_map'].flags.writeable


@pytest.mark.parametrize('row, long_side, expected', [
    # width 4 -> 3: sources floor((x + 0.5) * 4 / 3) = 0, 2 (exact tie), 3;
    # cv2.INTER_NEAREST_EXACT rounds the tie down and loses the target
    ([0, 0, 1, 0], 3, [0, 1, 0]),
    # width 2 -> 5 (height 1 -> 3): floor((x + 0.5) * 2 / 5) = 0 0 1 1 1
    # (cv2.INTER_NEAREST_EXACT: 0 0 0 1 1)
    ([0, 1], 5, [0, 0, 1, 1, 1]),
])
def test_mask_nearest_takes_the_pixel_under_each_centre(row, long_side,
                                                        expected):
    mask = np.array([row], np.uint8)
    out = _rescale_to(long_side, mask * 200, mask)
    assert out['gt_seg_map'].shape[1] == long_side
    for line in out['gt_seg_map']:
        np.testing.assert_array_equal(line, expected)


def test_uint16_and_float_images_keep_their_dtype():
    for dtype in (np.uint16, np.float32):
        img = np.arange(48, dtype=dtype).reshape(6, 8)
        out = _rescale_to(16, img, np.zeros((6, 8), np.uint8))
        assert out['img'].dtype == dtype and out['img'].shape == (12, 16)


def test_small_radius_blur_is_pillow_box_blur():
    # Pillow blurs with three "extended box" passes per axis: radius 0.2
    # gives box radius l + a with l = 0, a = 0.04 / 5.92 = 0.006757, i.e.
    # the 1-D kernel [a, 1, a] / (1 + 2a) = [.00667, .98667, .00667],
    # rounded to 8 bit after each pass. An impulse of 255: horizontally
    # 255 -> [2, 252, 2] -> [4, 249, 4] -> [6, 246, 6]; vertically the
    # centre 246 -> 243 -> 240 -> 237 with 6 above and below, and the 6s
    # beside it stay 6. (cv2.GaussianBlur with sigma 0.2 leaves it as is.)
    img = np.zeros((9, 9), np.uint8)
    img[4, 4] = 255
    blur = TRANSFORMS.build(dict(type='RandomGaussianBlur', prob=1.0,
                                 radius_range=(0.2, 0.2)))
    out = blur(dict(img=img.copy(), gt_seg_map=np.zeros((9, 9), np.uint8)))
    expected = np.zeros((9, 9), np.uint8)
    expected[3:6, 3:6] = [[0, 6, 0], [6, 237, 6], [0, 6, 0]]
    np.testing.assert_array_equal(out['img'], expected)
    assert out['gt_seg_map'].sum() == 0


def test_samspl_normalisation_constants_are_the_reference_values():
    # SAM-SPL NUDT-SIRST: (x - 107.80905151367188) / 33.02274703979492 on
    # the 0-255 scale; IRSTD-1k: per-channel mean / std after ToTensor
    cfg = Config.fromfile(osp.join(
        CONFIGS, 'samspl', 'samspl-t_1xb12-300e_nudt-sirst-256x256.py'))
    pre = cfg.model.data_preprocessor
    np.testing.assert_allclose(np.array(pre.mean) * 255,
                               [107.80905151367188] * 3, rtol=0, atol=1e-12)
    np.testing.assert_allclose(np.array(pre.std) * 255,
                               [33.02274703979492] * 3, rtol=0, atol=1e-12)
    cfg = Config.fromfile(osp.join(
        CONFIGS, 'samspl', 'samspl-t_1xb12-300e_irstd1k-256x256.py'))
    pre = cfg.model.data_preprocessor
    assert tuple(pre.mean) == (0.28450727, 0.28450724, 0.28450724)
    assert tuple(pre.std) == (0.22880708, 0.22880709, 0.22880709)
