"""Numerical checks of the data transforms."""
import numpy as np
import pytest
import torch

from serankdet.registry import TRANSFORMS


def _sample(h=6, w=10, dtype=np.uint16):
    img = (np.arange(h * w).reshape(h, w) * 100 + 1).astype(dtype)
    mask = np.zeros((h, w), np.uint8)
    mask[1, 2] = mask[h - 2, w - 3] = 1
    return dict(img=img, gt_seg_map=mask, seg_fields=['gt_seg_map'],
                img_shape=(h, w), ori_shape=(h, w), img_max_value=65535)


def _build(**cfg):
    return TRANSFORMS.build(cfg)


def test_flip_applies_to_image_and_mask():
    flip = _build(type='RandomFlip', prob=1.0, direction='horizontal')
    s = _sample()
    img, mask = s['img'].copy(), s['gt_seg_map'].copy()
    out = flip(s)
    np.testing.assert_array_equal(out['img'], img[:, ::-1])
    np.testing.assert_array_equal(out['gt_seg_map'], mask[:, ::-1])


def test_rescale_long_side_range_and_shapes():
    t = _build(type='RandomRescaleLongSide', base_size=20,
               ratio_range=(0.5, 2.0))
    assert t.long_side_range == (10, 40)
    np.random.seed(0)
    seen = set()
    for _ in range(400):
        out = t(_sample(6, 10))  # landscape: the width is the long side
        h, w = out['img'].shape
        seen.add(w)
        assert h == int(6 * w / 10 + 0.5)
        assert out['gt_seg_map'].shape == (h, w)
        assert out['img_shape'] == (h, w)
        assert out['img'].dtype == np.uint16
        assert set(np.unique(out['gt_seg_map'])) <= {0, 1}
    assert seen == set(range(10, 41))  # every integer, both ends included
    out = t(_sample(10, 6))  # portrait: the height is the long side
    assert 10 <= out['img'].shape[0] <= 40
    assert out['img'].shape[0] >= out['img'].shape[1]
    with pytest.raises(ValueError, match='empty long-side range'):
        _build(type='RandomRescaleLongSide', base_size=1,
               ratio_range=(0.5, 0.9))


def test_rescale_resamples_mask_nearest_centre_aligned():
    t = _build(type='RandomRescaleLongSide', base_size=20,
               ratio_range=(1.0, 1.0))
    s = _sample(6, 10, np.uint8)
    s['img'] = np.zeros((6, 10), np.uint8)
    s['img'][1, 2] = 200
    out = t(s)  # exactly 2x
    assert out['img'].shape == (12, 20)
    expected = np.zeros((12, 20), np.uint8)
    expected[2:4, 4:6] = expected[8:10, 14:16] = 1
    np.testing.assert_array_equal(out['gt_seg_map'], expected)
    assert out['scale_factor'] == (2.0, 2.0)
    # bilinear: the bright pixel spreads, its 2x2 block keeps the maximum
    assert out['img'][2:4, 4:6].min() == out['img'].max()


def test_pad_then_crop_to_fixed_size():
    pad = _build(type='Pad', size=(8, 8), pad_val=dict(img=0, seg=0))
    crop = _build(type='RandomCrop', crop_size=(8, 8))
    out = pad(_sample(6, 10))
    # height padded 6 -> 8 at the bottom with raw 0; width 10 kept
    assert out['img'].shape == out['gt_seg_map'].shape == (8, 10)
    assert (out['img'][6:] == 0).all() and (out['gt_seg_map'][6:] == 0).all()
    np.testing.assert_array_equal(out['img'][:6], _sample(6, 10)['img'])
    np.random.seed(1)
    offsets = set()
    for _ in range(100):
        c = crop(pad(_sample(6, 10)))
        assert c['img'].shape == c['gt_seg_map'].shape == (8, 8)
        x0 = int(np.argwhere(pad(_sample(6, 10))['img'][0] ==
                             c['img'][0, 0])[0, 0])
        offsets.add(x0)
        # image and mask cropped at the same place
        np.testing.assert_array_equal(
            c['gt_seg_map'], pad(_sample(6, 10))['gt_seg_map'][:, x0:x0 + 8])
    assert offsets == {0, 1, 2}


def test_gaussian_blur_changes_only_image():
    s = _sample(11, 11, np.float32)
    s['img'] = np.zeros((11, 11), np.float32)
    s['img'][5, 5] = 1.0
    mask = s['gt_seg_map'].copy()
    blur = _build(type='RandomGaussianBlur', prob=1.0,
                  radius_range=(1.0, 1.0))
    out = blur(s)
    np.testing.assert_array_equal(out['gt_seg_map'], mask)
    # an impulse gives the kernel: outer product of the normalized 1-D
    # Gaussian of sigma = radius = 1 (9 taps for float images)
    k = np.exp(-0.5 * np.arange(-4, 5)**2)
    k /= k.sum()
    np.testing.assert_allclose(out['img'][1:10, 1:10], np.outer(k, k),
                               atol=1e-6)
    assert out['img'].dtype == np.float32
    never = _build(type='RandomGaussianBlur', prob=0.0)
    img = _sample()['img']
    np.testing.assert_array_equal(never(_sample())['img'], img)
    np.random.seed(0)
    half = _build(type='RandomGaussianBlur', prob=0.5)
    changed = sum(
        not np.array_equal(half(_sample(9, 9))['img'], _sample(9, 9)['img'])
        for _ in range(200))
    assert 70 < changed < 130


def test_legacy_test_resize_scores_at_new_size():
    t = _build(type='LegacyTestResize', size=12)
    out = t(_sample(6, 10))
    assert out['img'].shape == out['gt_seg_map'].shape == (12, 12)
    assert out['ori_shape'] == out['img_shape'] == (12, 12)
    assert out['scale_factor'] == (1.2, 2.0)


def test_pack_carries_max_value():
    pack = _build(type='PackIRSTDInputs')
    out = pack(_sample(6, 10))
    assert out['inputs'].shape == (1, 6, 10)
    assert out['inputs'].dtype == torch.uint16
    sample = out['data_samples']
    assert sample.img_max_value == 65535
    assert sample.gt_sem_seg.data.shape == (1, 6, 10)
    assert sample.gt_sem_seg.data.sum() == 2


def _one_target_frame():
    """10x10 frame whose pixel values are their flat index (the crop's
    top-left value is its corner), one target pixel at (7, 2)."""
    img = np.arange(100, dtype=np.uint8).reshape(10, 10)
    mask = np.zeros((10, 10), np.uint8)
    mask[7, 2] = 1
    return dict(img=img, gt_seg_map=mask, seg_fields=['gt_seg_map'],
                img_shape=(10, 10))


def _crops(draws, **cfg):
    """(corners, share of 4x4 crops holding the target) over ``draws``."""
    crop = _build(type='TargetBiasedRandomCrop', crop_size=(4, 4), **cfg)
    np.random.seed(0)
    corners, hits = set(), 0
    for _ in range(draws):
        out = crop(_one_target_frame())
        assert out['img'].shape == out['gt_seg_map'].shape == (4, 4)
        assert out['img_shape'] == (4, 4)
        top, left = divmod(int(out['img'][0, 0]), 10)
        # the mask is cut at the same place as the image
        assert out['gt_seg_map'].sum() == ((top <= 7 < top + 4)
                                           and (left <= 2 < left + 4))
        corners.add((top, left))
        hits += int(out['gt_seg_map'].sum())
    return corners, hits / draws


def test_target_biased_crop_around_pixel_bounds_and_share():
    # always biased: top in [max(0, 7 - 4), min(7, 10 - 4)] = [3, 6],
    # left in [max(0, 2 - 4), min(2, 6)] = [0, 2], every corner drawn
    corners, _ = _crops(600, target_prob=1.0)
    assert corners == {(t, l) for t in range(3, 7) for l in range(3)}
    # never biased: uniform over the 7x7 corners
    corners, share = _crops(1500, target_prob=0.0)
    assert corners == {(t, l) for t in range(7) for l in range(7)}
    assert share == pytest.approx(9 / 49, abs=0.03)
    # half: 0.5 * 9/49 (uniform: top 4..6, left 0..2) + 0.5 * 3/4 (biased:
    # top 3 misses the pixel, BasicIRSTD's bound) = 0.4668
    _, share = _crops(4000, target_prob=0.5)
    assert share == pytest.approx(0.5 * 9 / 49 + 0.5 * 3 / 4, abs=0.025)


def test_target_biased_crop_redraw_share():
    _, share = _crops(300, target_prob=1.0, rule='redraw')
    assert share == 1.0
    # kept at once with p 1/2, else kept only with the target: hit share
    # q / (q + (1 - q) / 2) with q = 9/49, i.e. 9/29 = 0.3103
    _, share = _crops(4000, target_prob=0.5, rule='redraw')
    assert share == pytest.approx(9 / 29, abs=0.025)


@pytest.mark.parametrize('rule', ['around_pixel', 'redraw'])
def test_target_biased_crop_without_target_is_uniform(rule):
    crop = _build(type='TargetBiasedRandomCrop', crop_size=(4, 4),
                  target_prob=1.0, rule=rule)
    np.random.seed(0)
    corners = set()
    for _ in range(1500):
        frame = _one_target_frame()
        frame['gt_seg_map'][:] = 0
        corners.add(divmod(int(crop(frame)['img'][0, 0]), 10))
    assert corners == {(t, l) for t in range(7) for l in range(7)}


def test_target_biased_crop_errors():
    with pytest.raises(ValueError, match="rule must be one of"):
        _build(type='TargetBiasedRandomCrop', crop_size=(4, 4), rule='x')
    with pytest.raises(ValueError, match=r'target_prob must be in \[0, 1\]'):
        _build(type='TargetBiasedRandomCrop', crop_size=(4, 4),
               target_prob=2)
    crop = _build(type='TargetBiasedRandomCrop', crop_size=(12, 4))
    with pytest.raises(ValueError, match='a 10x10 frame is smaller than the '
                       r'12x4 crop; pad it first \(Pad with size=\(4, 12\)\)'):
        crop(_one_target_frame())


# ---------------------------------------------------------------------------
# RGB frames (LoadIRSTDImageFromFile(color_type='rgb')): (H, W, 3)


def _rgb_sample(h=6, w=10, dtype=np.uint8, seed=0):
    """A frame whose three channels differ everywhere, two target pixels."""
    rng = np.random.RandomState(seed)
    high = 256 if dtype == np.uint8 else 65536
    img = rng.randint(0, high, (h, w, 3)).astype(dtype)
    sample = _sample(h, w)
    sample.update(img=img, img_max_value=float(high - 1))
    return sample


@pytest.mark.parametrize('direction,axis', [('horizontal', 1),
                                            ('vertical', 0)])
def test_rgb_flip_equals_numpy(direction, axis):
    flip = _build(type='RandomFlip', prob=1.0, direction=direction)
    s = _rgb_sample()
    img, mask = s['img'].copy(), s['gt_seg_map'].copy()
    out = flip(s)
    np.testing.assert_array_equal(out['img'], np.flip(img, axis))
    np.testing.assert_array_equal(out['gt_seg_map'], np.flip(mask, axis))


def test_rgb_transpose_and_crops_equal_numpy():
    s = _rgb_sample()
    img, mask = s['img'].copy(), s['gt_seg_map'].copy()
    out = _build(type='RandomTranspose', prob=1.0)(s)
    np.testing.assert_array_equal(out['img'], img.transpose(1, 0, 2))
    np.testing.assert_array_equal(out['gt_seg_map'], mask.T)
    assert out['img_shape'] == (10, 6)
    for crop in (_build(type='RandomCrop', crop_size=(4, 5)),
                 _build(type='TargetBiasedRandomCrop', crop_size=(4, 5))):
        np.random.seed(3)
        for _ in range(20):
            out = crop(_rgb_sample())
            assert out['img'].shape == (4, 5, 3)
            # locate the crop by its first pixel (all values differ here)
            top, left = np.argwhere(
                (img == out['img'][0, 0]).all(axis=2))[0]
            np.testing.assert_array_equal(
                out['img'], img[top:top + 4, left:left + 5])
            np.testing.assert_array_equal(
                out['gt_seg_map'], mask[top:top + 4, left:left + 5])


def test_rgb_pad_fills_every_channel():
    from serankdet import recipes
    steps = recipes.with_color_type(
        recipes.basicirstd_train_pipeline((8, 12), pad_val=7), 'rgb')
    assert steps[0] == dict(type='LoadIRSTDImageFromFile', color_type='rgb')
    assert steps[2]['pad_val'] == dict(img=(7, 7, 7), seg=0)
    out = _build(**steps[2])(_rgb_sample(6, 10))
    assert out['img'].shape == (12, 10, 3)
    assert (out['img'][6:] == 7).all() and (out['gt_seg_map'][6:] == 0).all()
    np.testing.assert_array_equal(out['img'][:6], _rgb_sample(6, 10)['img'])
    # gray back: the loader only, pad values untouched
    gray = recipes.with_color_type(steps, 'gray')
    assert gray[0]['color_type'] == 'gray' and gray[2] == steps[2]


@pytest.mark.parametrize('dtype', [np.uint8, np.uint16])
def test_rgb_resize_equals_pillow_per_channel(dtype):
    from PIL import Image
    s = _rgb_sample(37, 53, dtype)
    img = s['img'].copy()
    np.random.seed(0)
    out = _build(type='RandomRescaleLongSide', base_size=40,
                 ratio_range=(0.5, 2.0))(s)
    h, w = out['gt_seg_map'].shape
    assert out['img'].shape == (h, w, 3) and out['img'].dtype == dtype
    if dtype == np.uint8:  # what the references resize: PIL RGB images
        expected = np.array(Image.fromarray(img).resize((w, h),
                                                        Image.BILINEAR))
    else:  # no 16-bit RGB mode in Pillow: each channel as I;16
        expected = np.stack([np.array(Image.fromarray(img[..., c]).resize(
            (w, h), Image.BILINEAR)) for c in range(3)], axis=2)
    np.testing.assert_array_equal(out['img'], expected)
    out = _build(type='LegacyTestResize', size=(20, 30))(_rgb_sample(
        37, 53, dtype))
    assert out['img'].shape == (20, 30, 3)


def test_rgb_blur_equals_pillow_on_rgb_images():
    from PIL import Image, ImageFilter
    img = _rgb_sample(23, 31)['img']
    for radius in (0.1, 0.45, 0.9):
        s = _rgb_sample(23, 31)
        out = _build(type='RandomGaussianBlur', prob=1.0,
                     radius_range=(radius, radius))(s)
        expected = np.array(Image.fromarray(img).filter(
            ImageFilter.GaussianBlur(radius)))
        np.testing.assert_array_equal(out['img'], expected)
    np.testing.assert_array_equal(out['gt_seg_map'],
                                  _rgb_sample(23, 31)['gt_seg_map'])


def test_rgb_pack_gives_channels_first():
    s = _rgb_sample(6, 10)
    img = s['img'].copy()
    out = _build(type='PackIRSTDInputs')(s)
    assert out['inputs'].shape == (3, 6, 10)
    assert out['inputs'].dtype == torch.uint8
    np.testing.assert_array_equal(out['inputs'].numpy(),
                                  img.transpose(2, 0, 1))
    assert out['data_samples'].gt_sem_seg.data.shape == (1, 6, 10)


def test_rgb_copy_paste_bank_follows_the_loader(tmp_path):
    import cv2

    from serankdet.registry import DATASETS
    for sub in ('images', 'masks'):
        (tmp_path / 'trainval' / sub).mkdir(parents=True)
    img = np.zeros((16, 16, 3), np.uint8)
    img[2:4, 3:6] = (10, 20, 30)  # RGB
    mask = np.zeros((16, 16), np.uint8)
    mask[2:4, 3:6] = 255
    cv2.imwrite(str(tmp_path / 'trainval/images/a.png'), img[..., ::-1])
    cv2.imwrite(str(tmp_path / 'trainval/masks/a.png'), mask)
    banks = {}
    for color_type in ('gray', 'rgb'):
        dataset = DATASETS.build(dict(
            type='IRSTDDataset', data_root=str(tmp_path),
            data_prefix=dict(img_path='trainval/images',
                             seg_map_path='trainval/masks'),
            pipeline=[dict(type='LoadIRSTDImageFromFile',
                           color_type=color_type),
                      dict(type='LoadIRSTDAnnotations'),
                      dict(type='TargetCopyPaste', prob=1.0,
                           max_pastes=1)]))
        banks[color_type] = dataset.pipeline.transforms[2].bank
    # BT.601 luma of (10, 20, 30): 0.299*10 + 0.587*20 + 0.114*30 = 18.16
    np.testing.assert_array_equal(banks['gray'][0][0], np.full((2, 3), 18))
    np.testing.assert_array_equal(banks['rgb'][0][0],
                                  np.tile([10, 20, 30], (2, 3, 1)))
    np.random.seed(0)
    sample = dataset[0]  # the rgb dataset: load, then paste into RGB
    target = sample['gt_seg_map'] == 1
    assert sample['img'].shape == (16, 16, 3) and target.sum() >= 6
    assert (sample['img'][target] == (10, 20, 30)).all()
    assert (sample['img'][~target] == 0).all()
