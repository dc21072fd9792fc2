"""IRSTDInferencer: built like MMSegInferencer, inputs of every kind, target
lists, batching, tiling, safe checkpoint loading."""
import os
import os.path as osp
import textwrap

import cv2
import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.infer import BaseInferencer
from mmseg.structures import SegDataSample

from serankdet.apis import IRSTDInferencer, Target, inference_model, init_model
from serankdet.apis.inferencer import (draw_overlay, extract_targets,
                                       find_images, list_images,
                                       tile_test_cfg)
from serankdet.datasets.image_io import InvalidSampleError
from serankdet.utils import CheckpointMismatchError
from serankdet.models.segmentors.irstd_segmentor import (IRSTDSegmentor,
                                                         _window_starts)
from serankdet.registry import INFERENCERS
from serankdet.utils import UnsafeCheckpointError
from serankdet.visualization.irstd_visualizer import HIT, LEGEND_HEIGHT
from tests.conftest import REPO_ROOT
from tests.payloads import PAYLOADS, write_hostile_checkpoint

DEMO = f'{REPO_ROOT}/configs/unet/unet_1xb8-800i_synthetic-128x128.py'


@pytest.fixture(scope='module')
def tiny(tmp_path_factory):
    """A 3-level U-Net (total stride 4) config and random-weight checkpoint.

    Receptive field of the main logits: the two 3x3 convs of each level
    reach 2 px at level 0, 2 x 2 px at level 1 and 2 x 4 px at level 2;
    with the 2x2 pools and the bilinear upsamplings of the decoder (one
    coarse pixel each) an output pixel depends on input pixels at most 25 px
    away (derivation in test_tiled_equals_whole_away_from_tile_borders).
    """
    folder = tmp_path_factory.mktemp('tiny')
    config = folder / 'tiny_unet.py'
    config.write_text(textwrap.dedent(f'''
        _base_ = [{DEMO!r}]
        channels = (4, 8, 16)
        model = dict(
            data_preprocessor=dict(size_divisor=4),
            backbone=dict(channels=channels),
            neck=dict(in_channels=channels),
            decode_head=dict(in_channels=channels, side_in_indices=(1, 2),
                             output_weights=(1.0, 0.5, 0.25)))
        '''))
    torch.manual_seed(0)
    inferencer = IRSTDInferencer(str(config))
    # random BN statistics so that the network is not near-linear
    for module in inferencer.model.modules():
        if isinstance(module, torch.nn.BatchNorm2d):
            module.running_mean.uniform_(-0.2, 0.2)
            module.running_var.uniform_(0.5, 1.5)
    checkpoint = folder / 'tiny.pth'
    torch.save(dict(state_dict=inferencer.model.state_dict()), checkpoint)
    return str(config), str(checkpoint)


def seeded_state(model):
    """Weights drawn from a fixed NumPy stream in key order, independent of
    the model's own initialisation code; the main head's bias is lowered
    so that a few percent of the pixels are targets."""
    rng = np.random.default_rng(2024)
    state = {}
    for name, tensor in sorted(model.state_dict().items()):
        shape = tuple(tensor.shape)
        if not tensor.is_floating_point():
            state[name] = tensor.clone()
            continue
        if name.endswith('running_var'):
            value = rng.uniform(0.5, 1.5, shape)
        elif name.endswith('running_mean'):
            value = rng.uniform(-0.2, 0.2, shape)
        elif tensor.dim() > 1:
            value = rng.normal(0, np.sqrt(2.0 / np.prod(shape[1:])), shape)
        elif name.endswith('weight'):
            value = 1.0 + 0.1 * rng.standard_normal(shape)
        else:
            value = 0.1 * rng.standard_normal(shape)
        state[name] = torch.tensor(value, dtype=tensor.dtype)
    state['decode_head.main_conv.bias'][:] = -6.3
    return state


@pytest.fixture(scope='module')
def seeded(tiny, tmp_path_factory):
    """The tiny U-Net with :func:`seeded_state` weights: (config, ckpt)."""
    config, _ = tiny
    model = init_model(config)
    model.load_state_dict(seeded_state(model))
    checkpoint = tmp_path_factory.mktemp('seeded') / 'seeded.pth'
    torch.save(dict(state_dict=model.state_dict()), checkpoint)
    return config, str(checkpoint)


def golden_frames():
    """Two noisy 8-bit frames with three bright 3x3 spots each."""
    rng = np.random.default_rng(7)
    frames = []
    for shape in ((40, 48), (33, 50)):
        image = rng.normal(60, 8, shape)
        for _ in range(3):
            y = rng.integers(4, shape[0] - 4)
            x = rng.integers(4, shape[1] - 4)
            image[y - 1:y + 2, x - 1:x + 2] += 150
        frames.append(np.clip(image, 0, 255).astype(np.uint8))
    return frames


#: What the hand-written IRSTDInferencer (before it was rebuilt on
#: mmengine's BaseInferencer) gave for the seeded model on golden_frames():
#: per frame the probability sum, the mask's pixel count and every target
#: (centroid, bbox, area, peak_score, mean_score).
GOLDEN = [
    (443.761522, 86, [
        ((10.100000, 13.300000), (9, 11, 3, 6), 10, 0.553144, 0.518500),
        ((16.041667, 17.750000), (14, 13, 5, 9), 24, 0.823694, 0.625399),
        ((22.500000, 26.571429), (20, 22, 7, 9), 28, 0.835633, 0.629401),
        ((38.000000, 28.333333), (37, 28, 3, 2), 3, 0.569016, 0.538539),
        ((35.181818, 33.363636), (33, 32, 6, 3), 11, 0.736832, 0.658782),
        ((8.111111, 33.888889), (5, 33, 8, 2), 9, 0.636606, 0.555329),
        ((41.000000, 34.000000), (41, 34, 1, 1), 1, 0.521313, 0.521313),
    ]),
    (376.419855, 75, [
        ((13.740741, 15.148148), (11, 9, 7, 13), 27, 0.815077, 0.598228),
        ((20.750000, 13.250000), (20, 12, 3, 3), 4, 0.554502, 0.522433),
        ((8.000000, 13.000000), (8, 13, 1, 1), 1, 0.517105, 0.517105),
        ((24.000000, 14.000000), (24, 14, 1, 1), 1, 0.516481, 0.516481),
        ((26.045455, 17.863636), (23, 14, 7, 8), 22, 0.786223, 0.619903),
        ((8.444444, 19.222222), (7, 18, 4, 4), 9, 0.569107, 0.533015),
        ((11.272727, 24.636364), (10, 23, 4, 4), 11, 0.746229, 0.615470),
    ]),
]


def test_results_equal_the_reference(seeded):
    """The same model and frames give what the inferencer gave before it
    was rebuilt on BaseInferencer (GOLDEN), and exactly what
    inference_model's logits give."""
    config, checkpoint = seeded
    frames = golden_frames()
    results = IRSTDInferencer(config, checkpoint)(frames)
    model = init_model(config, checkpoint)
    for image, result, (prob_sum, mask_sum, targets) in zip(
            frames, results, GOLDEN):
        assert result.probabilities.sum(dtype=np.float64) == pytest.approx(
            prob_sum, abs=1e-3)
        assert int(result.mask.sum()) == mask_sum
        assert len(result.targets) == len(targets)
        for target, (centroid, bbox, area, peak, mean) in zip(
                result.targets, targets):
            assert target.bbox == bbox and target.area == area
            assert target.centroid == pytest.approx(centroid, abs=1e-5)
            assert target.peak_score == pytest.approx(peak, abs=1e-5)
            assert target.mean_score == pytest.approx(mean, abs=1e-5)
        # bit for bit what the single-frame api computes
        logits = inference_model(model, image).seg_logits.data[0]
        np.testing.assert_array_equal(result.probabilities,
                                      logits.sigmoid().numpy())
        np.testing.assert_array_equal(result.mask, logits.numpy() > 0)
        assert result.targets == extract_targets(result.probabilities,
                                                 result.mask)


def record_windows(monkeypatch) -> list:
    """The (h, w) of every input the segmentor's network runs on, in
    order (whole frames or sliding windows)."""
    windows = []
    encode = IRSTDSegmentor.encode_decode
    monkeypatch.setattr(
        IRSTDSegmentor, 'encode_decode',
        lambda self, x, metas=None: windows.append(tuple(x.shape[-2:]))
        or encode(self, x, metas))
    return windows


def frame(shape, seed=0, dtype=np.uint8):
    top = np.iinfo(dtype).max
    return np.random.default_rng(seed).integers(0, top, shape, dtype)


def test_extract_targets_hand_computed():
    probs = np.zeros((6, 8), np.float32)
    probs[1, 1:4] = (0.6, 0.9, 0.7)       # a horizontal bar
    probs[3:5, 6] = (0.8, 0.55)           # a vertical bar
    probs[4, 5] = 0.3                     # below threshold: not a target
    targets = extract_targets(probs, probs > 0.5)
    assert targets == [
        Target(centroid=(2.0, 1.0), bbox=(1, 1, 3, 1), area=3,
               peak_score=pytest.approx(0.9),
               mean_score=pytest.approx((0.6 + 0.9 + 0.7) / 3)),
        Target(centroid=(6.0, 3.5), bbox=(6, 3, 1, 2), area=2,
               peak_score=pytest.approx(0.8),
               mean_score=pytest.approx((0.8 + 0.55) / 2)),
    ]
    assert targets[1].to_dict()['bbox'] == [6, 3, 1, 2]
    assert extract_targets(probs, np.zeros_like(probs)) == []


def test_paths_arrays_and_lists(tiny, tmp_path):
    config, checkpoint = tiny
    inferencer = IRSTDInferencer(config, checkpoint, batch_size=2)
    image = frame((30, 44))
    path = str(tmp_path / 'a.png')
    cv2.imwrite(path, image)
    one = inferencer(path)
    assert one.source == path
    assert one.mask.shape == one.probabilities.shape == (30, 44)
    assert one.probabilities.dtype == np.float32
    np.testing.assert_array_equal(one.image, image)
    np.testing.assert_array_equal(
        one.mask, one.probabilities > inferencer.threshold)
    from_array = inferencer(image)
    np.testing.assert_array_equal(from_array.probabilities, one.probabilities)
    listed = inferencer([path, image])
    assert [r.source for r in listed] == [path, None]
    # batched with another frame: the same up to float rounding
    np.testing.assert_allclose(listed[1].probabilities, one.probabilities,
                               atol=1e-6)
    # a folder gives a list, sorted
    cv2.imwrite(str(tmp_path / 'b.png'), image)
    assert [r.source for r in inferencer(str(tmp_path))] == [
        path, str(tmp_path / 'b.png')]


def test_16bit_and_rgba_frames_are_read_as_gray(tiny, tmp_path):
    config, checkpoint = tiny
    inferencer = IRSTDInferencer(config, checkpoint)
    gray8 = frame((24, 28), seed=1)
    reference = inferencer(gray8)
    # 16-bit: the same scene at 257x finer steps is the same network input
    path16 = str(tmp_path / 'frame16.png')
    cv2.imwrite(path16, gray8.astype(np.uint16) * 257)
    result16 = inferencer(path16)
    assert result16.image.dtype == np.uint16 and result16.max_value == 65535
    np.testing.assert_allclose(result16.probabilities,
                               reference.probabilities, atol=1e-6)
    # RGBA: BT.601 luma of the colour, alpha ignored
    rgb = frame((24, 28, 3), seed=2)
    bgra = np.dstack([rgb[..., ::-1], frame((24, 28), seed=3)])
    path_rgba = str(tmp_path / 'frame_rgba.png')
    cv2.imwrite(path_rgba, bgra)
    luma = rgb @ np.array([0.299, 0.587, 0.114])
    result = inferencer(path_rgba)
    assert result.image.dtype == np.uint8 and result.max_value == 255
    assert np.abs(result.image - luma).max() <= 0.5 + 1e-6  # rounded
    np.testing.assert_allclose(result.probabilities,
                               inferencer(result.image).probabilities,
                               atol=1e-6)


def test_mixed_sizes_batch_like_single_frames(tiny):
    config, checkpoint = tiny
    frames = [frame((40, 48), 0), frame((40, 48), 1), frame((33, 50), 2),
              frame((40, 47), 3), frame((33, 50), 4)]
    single = IRSTDInferencer(config, checkpoint, batch_size=1)(frames)
    batched = IRSTDInferencer(config, checkpoint, batch_size=3)(frames)
    for one, many, image in zip(single, batched, frames):
        assert many.mask.shape == image.shape
        np.testing.assert_allclose(many.probabilities, one.probabilities,
                                   atol=1e-6)


def test_amp_runs_in_low_precision_and_returns_float32(tiny):
    config, checkpoint = tiny
    frames = [frame((40, 48), 0), frame((33, 50), 2)]
    exact = IRSTDInferencer(config, checkpoint)(frames)
    inferencer = IRSTDInferencer(config, checkpoint, amp=True)
    conv_dtypes = []
    first_conv = next(m for m in inferencer.model.modules()
                      if isinstance(m, torch.nn.Conv2d))
    first_conv.register_forward_hook(
        lambda module, args, out: conv_dtypes.append(out.dtype))
    mixed = inferencer(frames)
    # the inferencer runs on its device, 'cpu' here: bfloat16 autocast
    # (one pass per frame, after the segmentor's memory probe)
    assert conv_dtypes == [torch.bfloat16] * 3
    for one, amp in zip(exact, mixed):
        assert amp.probabilities.dtype == np.float32
        # bfloat16 keeps ~3 significant digits
        np.testing.assert_allclose(amp.probabilities, one.probabilities,
                                   atol=2e-2)


def test_unreadable_frame_is_reported_and_the_rest_processed(tiny, tmp_path):
    config, checkpoint = tiny
    inferencer = IRSTDInferencer(config, checkpoint, batch_size=4)
    good = [str(tmp_path / f'{i}.png') for i in range(3)]
    for i, path in enumerate(good):
        cv2.imwrite(path, frame((20, 24), i))
    bad = str(tmp_path / '1b.png')
    with open(bad, 'wb') as handle:
        handle.write(b'not an image')
    items = [good[0], good[1], bad, str(tmp_path / 'missing.png'), good[2]]
    results = list(inferencer.stream(items))
    assert [item for item, _ in results] == items
    assert isinstance(results[2][1], InvalidSampleError)
    assert 'cannot decode' in str(results[2][1])
    assert isinstance(results[3][1], FileNotFoundError)
    assert all(r.mask.shape == (20, 24)
               for i, (_, r) in enumerate(results) if i in (0, 1, 4))
    with pytest.raises(InvalidSampleError, match='1b.png'):
        inferencer(items)


def test_list_images_file_folder_glob(tmp_path):
    for name in ('b/2.PNG', 'a.tif', 'b/c/1.jpg', 'notes.txt'):
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b'')
    assert list_images(str(tmp_path)) == [
        str(tmp_path / n) for n in ('a.tif', 'b/2.PNG', 'b/c/1.jpg')]
    assert list_images(str(tmp_path / 'b' / '**' / '*.jpg')) == [
        str(tmp_path / 'b/c/1.jpg')]
    assert list_images(str(tmp_path / 'notes.txt')) == [
        str(tmp_path / 'notes.txt')]
    with pytest.raises(FileNotFoundError, match='no image'):
        list_images(str(tmp_path / 'nothing*'))


def test_tile_test_cfg():
    assert tile_test_cfg((64, 96), 16, 8) == dict(
        mode='slide', crop_size=(64, 96), stride=(48, 80))
    # a fraction; strides rounded down to the network stride
    assert tile_test_cfg(64, 0.3, 8)['stride'] == (40, 40)
    with pytest.raises(ValueError, match='multiples of .* size_divisor 8'):
        tile_test_cfg((60, 64), 16, 8)
    with pytest.raises(ValueError, match='leaves no stride'):
        tile_test_cfg(64, 60, 8)
    with pytest.raises(ValueError, match=r'\[0, 1\)'):
        tile_test_cfg(64, 1.5, 8)


def test_tiled_equals_whole_away_from_tile_borders(tiny):
    """Sliding windows give the whole-frame logits far from window edges.

    Receptive field of the tiny U-Net's main output (radius, input px):
    encoder level 0 (two 3x3 convs) 2; level 1 adds the 2x2 pool (1) and two
    convs at stride 2 (4); level 2 the pool (2) and two convs at stride 4
    (8); the decoder's bilinear upsampling + two convs add 4 + 4 at level 1
    and 2 + 2 at level 0, plus rounding of the pooling grid: at most 25 px.
    Windows start at multiples of the total stride (4), so inside a window
    every pixel further than 25 px from the window's edges (edges on the
    frame border do not count: zero padding is the same there) sees exactly
    the input the whole frame gives it. We compare the pixels at least 28 px
    from the inner edges of every window covering them; there the only
    difference is float rounding of convolutions on differently sized
    arrays (~1e-6), hence atol 1e-4 on logits of magnitude ~1.
    """
    config, checkpoint = tiny
    image = frame((200, 232), seed=5)
    whole = IRSTDInferencer(config, checkpoint)
    tiled = IRSTDInferencer(config, checkpoint, tile=(128, 128), overlap=64)
    assert tiled.model.test_cfg == dict(mode='slide', crop_size=(128, 128),
                                        stride=(64, 64))

    def logits(inferencer):
        probs = inferencer(image).probabilities.astype(np.float64)
        return np.log(probs) - np.log1p(-probs)

    diff = np.abs(logits(tiled) - logits(whole))
    margin = 28
    safe = np.ones(image.shape, bool)
    for axis, size in enumerate(image.shape):
        coords = np.arange(size)
        ok = np.ones(size, bool)
        for start in _window_starts(size, 128, 64):
            inside = (coords >= start) & (coords < start + 128)
            near = np.zeros(size, bool)
            if start > 0:
                near |= coords < start + margin
            if start + 128 < size:
                near |= coords >= start + 128 - margin
            ok &= ~(inside & near)
        safe &= ok[:, None] if axis == 0 else ok[None, :]
    assert safe.sum() > 0.3 * safe.size  # the comparison covers much
    assert diff[safe].max() < 1e-4
    # and tiling does change the logits near the window edges
    assert diff[~safe].max() > 1e-3


@pytest.mark.parametrize('config, options', [
    ('serankdet/serankdet-w8_1xb4-400i_sirst-256x256.py', None),
    ('datransnet/datransnet_1xb4-400e_nudt-sirst-256x256.py', None),
    ('samspl/samspl-t_1xb12-300e_nudt-sirst-256x256.py',
     {'model.backbone.trunk.pretrained': None}),
])
def test_every_seed_model_runs_on_frames_of_any_size(config, options):
    """Random-weight seed models on a 16-bit frame whose sides fit no
    stride: outputs come back at the frame's size, targets are listed."""
    torch.manual_seed(0)
    inferencer = IRSTDInferencer(f'{REPO_ROOT}/configs/{config}',
                                 cfg_options=options)
    frame = np.random.default_rng(0).integers(0, 65535, (130, 121),
                                              dtype=np.uint16)
    result = inferencer(frame)
    assert result.probabilities.shape == (130, 121)
    assert result.mask.shape == (130, 121)
    assert np.array_equal(result.mask, result.probabilities > 0.5)
    assert len(result.targets) == len(extract_targets(result.probabilities,
                                                      result.mask))


def assert_same_results(ours, theirs):
    assert len(ours) == len(theirs)
    for one, other in zip(ours, theirs):
        np.testing.assert_array_equal(one.probabilities, other.probabilities)
        np.testing.assert_array_equal(one.mask, other.mask)
        assert one.targets == other.targets


def test_built_like_mmseg_inferencer(seeded):
    """Keywords model/weights, a Config or dict, or the INFERENCERS
    registry: the same inferencer, the same results."""
    config, checkpoint = seeded
    frames = golden_frames()
    reference = IRSTDInferencer(config, checkpoint)(frames)
    by_keywords = IRSTDInferencer(model=config, weights=checkpoint,
                                  device='cpu')
    assert isinstance(by_keywords, BaseInferencer)
    assert by_keywords.weights == checkpoint
    built = INFERENCERS.build(dict(type='IRSTDInferencer', model=config,
                                   weights=checkpoint, batch_size=2))
    assert type(built) is IRSTDInferencer and built.batch_size == 2
    from_config = IRSTDInferencer(Config.fromfile(config), checkpoint)
    from_dict = IRSTDInferencer(Config.fromfile(config).to_dict(),
                                checkpoint)
    for inferencer in (by_keywords, built, from_config, from_dict):
        assert_same_results(inferencer(frames), reference)
    # overrides apply; the caller's Config is left as it was
    cfg = Config.fromfile(config)
    strict = IRSTDInferencer(cfg, checkpoint, cfg_options={
        'model.decode_head.threshold': 0.7})
    assert strict.threshold == 0.7 and cfg.model.decode_head.threshold == 0.5
    assert strict(frames[0]).mask.sum() < reference[0].mask.sum()


def test_model_needs_a_config(seeded, tmp_path):
    _, checkpoint = seeded
    with pytest.raises(ValueError, match='needs the model\'s config'):
        IRSTDInferencer(None, checkpoint)
    with pytest.raises(FileNotFoundError, match='nope.py'):
        IRSTDInferencer(str(tmp_path / 'nope.py'), checkpoint)


def test_arrays_and_paths_batched_alike(seeded, tmp_path):
    """A batch of arrays and the same frames as files: identical results,
    batched or not."""
    config, checkpoint = seeded
    rng = np.random.default_rng(3)
    frames = [rng.integers(0, 255, (36, 44), np.uint8) for _ in range(4)]
    paths = []
    for index, image in enumerate(frames):
        paths.append(str(tmp_path / f'{index}.png'))
        cv2.imwrite(paths[-1], image)
    inferencer = IRSTDInferencer(config, checkpoint, batch_size=4)
    from_arrays = inferencer(frames)
    from_paths = inferencer(paths)
    assert_same_results(from_arrays, from_paths)
    assert [r.source for r in from_paths] == paths
    assert [r.source for r in from_arrays] == [None] * 4
    one_by_one = inferencer(paths, batch_size=1)
    for batched, single in zip(from_paths, one_by_one):  # float rounding
        np.testing.assert_allclose(batched.probabilities,
                                   single.probabilities, atol=1e-5)
    # an iterable is consumed lazily, one result per frame as it finishes
    stream = inferencer.stream(iter(frames), batch_size=1)
    item, first = next(stream)
    assert item is frames[0]
    np.testing.assert_array_equal(first.probabilities,
                                  one_by_one[0].probabilities)


def test_datasamples_overlays_and_output_folders(seeded, tmp_path):
    config, checkpoint = seeded
    inferencer = IRSTDInferencer(config, checkpoint, threshold=0.6)
    frames = golden_frames()
    (tmp_path / 'in').mkdir()
    path = str(tmp_path / 'in' / 'scene.png')
    cv2.imwrite(path, frames[0])
    results = inferencer([path, frames[1]], return_vis=True,
                         out_dir=str(tmp_path / 'out'))
    samples = inferencer([path, frames[1]], return_datasamples=True)
    for result, sample, image in zip(results, samples, frames):
        assert isinstance(sample, SegDataSample)
        # pred_sem_seg at the inferencer's threshold, not the head's
        np.testing.assert_array_equal(
            sample.pred_sem_seg.data[0].numpy() != 0, result.mask)
        np.testing.assert_array_equal(
            result.mask, result.probabilities > 0.6)
        np.testing.assert_array_equal(sample.img, image)
        np.testing.assert_array_equal(
            result.visualization,
            draw_overlay(image, result.mask, result.max_value))
    masks = {p.name: cv2.imread(str(p), cv2.IMREAD_UNCHANGED)
             for p in (tmp_path / 'out' / 'masks').iterdir()}
    assert sorted(masks) == ['00000001.png', 'scene.png']
    np.testing.assert_array_equal(masks['scene.png'],
                                  results[0].mask.astype(np.uint8) * 255)
    overlay = cv2.imread(str(tmp_path / 'out' / 'overlays' / 'scene.png'))
    np.testing.assert_array_equal(overlay[..., ::-1],
                                  results[0].visualization)
    assert inferencer(frames[0]).visualization is None


def test_show_uses_the_configs_visualizer(seeded, monkeypatch):
    from mmengine.visualization import Visualizer
    shown = []
    monkeypatch.setattr(Visualizer, 'show',
                        lambda self, image, win_name='', wait_time=0:
                        shown.append((type(self).__name__, image.shape,
                                      win_name, wait_time)))
    config, checkpoint = seeded
    inferencer = IRSTDInferencer(config, checkpoint)
    assert inferencer.visualizer is None  # built on the first show only
    inferencer(golden_frames(), show=True, wait_time=0.5)
    # the overlays: 40x48 and 33x50 frames enlarged 8x, legend below
    assert shown == [
        ('IRSTDVisualizer', (40 * 8 + LEGEND_HEIGHT, 48 * 8, 3), '00000000',
         0.5),
        ('IRSTDVisualizer', (33 * 8 + LEGEND_HEIGHT, 50 * 8, 3), '00000001',
         0.5)]
    assert inferencer.visualizer.get_backend('LocalVisBackend') is None


def test_draw_overlay_marks_and_rings_targets():
    """A 20x30 frame is enlarged 13x (longer side 390 >= 384); target pixels
    green, a green ring around the target, a legend strip below."""
    image = np.full((20, 30), 100, np.uint16) * 257
    mask = np.zeros((20, 30), bool)
    mask[8:10, 12:15] = True
    overlay = draw_overlay(image, mask, 65535)
    scale = 13
    assert overlay.shape == (20 * scale + LEGEND_HEIGHT, 30 * scale, 3)
    assert overlay.dtype == np.uint8
    frame, legend = overlay[:20 * scale], overlay[20 * scale:]
    big_mask = np.repeat(np.repeat(mask, scale, 0), scale, 1)
    assert (frame[big_mask] == HIT).all()
    green = (frame == HIT).all(axis=2) & ~big_mask
    rows, cols = np.nonzero(green)
    centre_row, centre_col = 9 * scale, 13.5 * scale  # target centre
    radii = np.hypot(rows + 0.5 - centre_row, cols + 0.5 - centre_col)
    assert green.any() and radii.min() > 1.5 * scale  # a ring, apart
    assert (frame[~big_mask & ~green] == 100).all()   # the frame, in gray
    assert (legend == HIT).all(axis=2).any()
    native = draw_overlay(image, mask, 65535, display_side=0)
    assert native.shape == (20 + LEGEND_HEIGHT, 30, 3)


def test_a_frame_the_model_fails_on_is_rerun_alone(seeded, monkeypatch):
    """A batch the model fails on is rerun frame by frame: only the frame
    that fails is reported, the others get their single-frame results."""
    config, checkpoint = seeded
    frames = [frame((32, 40), seed) for seed in range(4)]
    frames[2][:] = 255  # the stand-in failure below: a saturated frame
    inferencer = IRSTDInferencer(config, checkpoint, batch_size=4)
    expected = inferencer([frames[i] for i in (0, 1, 3)], batch_size=1)
    encode = IRSTDSegmentor.encode_decode
    calls = []

    def failing(self, inputs, batch_img_metas=None):
        calls.append(len(inputs))
        if (inputs.flatten(1).min(1).values > 1.99).any():  # (1 - .5) / .25
            raise RuntimeError('saturated frame')
        return encode(self, inputs, batch_img_metas)

    monkeypatch.setattr(IRSTDSegmentor, 'encode_decode', failing)
    results = list(inferencer.stream(frames))
    assert calls == [4, 1, 1, 1, 1]
    assert [item is image for (item, _), image in zip(results, frames)] \
        == [True] * 4
    assert isinstance(results[2][1], RuntimeError)
    for (_, result), reference in zip(
            [results[i] for i in (0, 1, 3)], expected):
        np.testing.assert_array_equal(result.probabilities,
                                      reference.probabilities)
    with pytest.raises(RuntimeError, match='saturated'):
        inferencer(frames)


def test_checkpoint_of_another_variant_is_refused(tiny, tmp_path):
    config, checkpoint = tiny
    wide = [8, 16, 32]
    with pytest.raises(CheckpointMismatchError) as info:
        IRSTDInferencer(config, checkpoint, cfg_options={
            'model.backbone.channels': wide, 'model.neck.in_channels': wide,
            'model.decode_head.in_channels': wide})
    assert str(info.value).startswith(
        f'checkpoint {checkpoint} does not fit IRSTDSegmentor')
    assert 'shape mismatches' in str(info.value)
    stray = str(tmp_path / 'stray.pth')
    state = torch.load(checkpoint)['state_dict']
    state['head.extra'] = torch.zeros(2)
    torch.save(state, stray)  # a bare state dict
    with pytest.raises(CheckpointMismatchError, match='head.extra'):
        IRSTDInferencer(config, stray)


@pytest.mark.parametrize('kind', sorted(PAYLOADS))
def test_hostile_checkpoint_runs_nothing(tiny, tmp_path, kind):
    """Weights load through the weights-only allowlist, never through
    mmengine's unpickling loader that BaseInferencer uses."""
    config, checkpoint = tiny
    state = torch.load(checkpoint)['state_dict']
    path, marker = write_hostile_checkpoint(str(tmp_path), kind, state)
    with pytest.raises(UnsafeCheckpointError,
                       match=f'it refers to {PAYLOADS[kind][1]}'):
        IRSTDInferencer(config, path)
    assert not osp.exists(marker), 'the payload ran'


def test_serankdet_slides_by_itself_above_its_limit(monkeypatch):
    """SeRankDet takes sides up to 512: a 512x600 frame runs in the
    segmentor's own 512x512 windows (stride 448), exactly as with those
    windows set by hand."""
    config = f'{REPO_ROOT}/configs/serankdet/' \
        'serankdet-w8_1xb4-400i_sirst-256x256.py'
    torch.manual_seed(0)
    auto = IRSTDInferencer(config)
    assert auto.model.test_cfg.get('mode', 'whole') == 'whole'
    assert auto.model.auto_slide_cfg() == dict(
        mode='slide', crop_size=(512, 512), stride=(448, 448))
    by_hand = IRSTDInferencer(config, tile=512, overlap=64)
    by_hand.model.load_state_dict(auto.model.state_dict())
    assert by_hand.model.test_cfg == auto.model.auto_slide_cfg()
    windows = record_windows(monkeypatch)
    image = frame((512, 600), seed=4)
    result = auto(image)
    assert windows == [(512, 512), (512, 512)]
    assert result.mask.shape == (512, 600)
    np.testing.assert_array_equal(result.probabilities,
                                  by_hand(image).probabilities)


# --- hostile input (issue 29) ---

def test_find_images_ends_link_loops_and_says_what_it_skipped(tmp_path):
    """``L/sub/loop -> ..`` twice made 17 files 697 paths, and two such
    links a listing that never returned: each real folder is entered
    once. Entries named like images that are no files are listed as
    skipped; so is an excluded folder."""
    root = tmp_path / 'L'
    (root / 'sub' / 'deeper').mkdir(parents=True)
    names = [f'{i:02d}.png' for i in range(17)]
    for i, name in enumerate(names):
        folder = root if i < 9 else root / 'sub' / 'deeper'
        (folder / name).write_bytes(b'')
    os.symlink('..', root / 'sub' / 'loop')
    os.symlink('..', root / 'sub' / 'deeper' / 'loop')
    os.mkfifo(root / 'fifo.png')
    (root / 'folder.png').mkdir()
    (root / 'folder.png' / 'inside.png').write_bytes(b'')
    os.symlink('gone.png', root / 'dangling.png')
    (root / 'out' / 'masks').mkdir(parents=True)
    (root / 'out' / 'masks' / 'written.png').write_bytes(b'')
    listing = find_images(str(root), exclude=[str(root / 'out')])
    expected = [str(root / n) for n in names[:9]] + [
        str(root / 'folder.png' / 'inside.png')] + [
        str(root / 'sub' / 'deeper' / n) for n in names[9:]]
    assert listing.paths == sorted(expected)
    assert listing.skipped == [
        (str(root / 'dangling.png'), 'a dangling link'),
        (str(root / 'fifo.png'),
         'not a regular file (a FIFO, socket or device)'),
        (str(root / 'folder.png'), 'a folder, not an image'),
        (str(root / 'out'), 'excluded (the output folder)'),
        (str(root / 'sub' / 'deeper' / 'loop'),
         'a link to a folder listed already'),
        (str(root / 'sub' / 'loop'), 'a link to a folder listed already')]
    # list_images logs each skipped entry and returns the paths
    assert list_images(str(root)) == sorted(
        expected + [str(root / 'out' / 'masks' / 'written.png')])
    with pytest.raises(FileNotFoundError, match='no image'):
        list_images(str(root / 'fifo.png'))


@pytest.mark.skipif(torch.cuda.is_available(), reason='needs no GPU')
def test_a_device_this_machine_lacks_is_refused(tiny):
    config, _ = tiny
    with pytest.raises(ValueError) as error:
        IRSTDInferencer(config, device='cuda:0')
    assert str(error.value) == (
        "device 'cuda:0': this machine has 0 CUDA GPU(s) usable by torch "
        f"{torch.__version__}; use device 'cpu' (--device cpu)")
    with pytest.raises(ValueError, match="device 'gpu' is not a torch"):
        IRSTDInferencer(config, device='gpu')


def test_frames_above_the_memory_budget_run_in_windows(tiny, monkeypatch):
    """Every model runs a frame whose pass would need more than
    ``test_cfg.max_memory`` in windows that fit, exactly as those windows
    set by hand."""
    config, checkpoint = tiny
    auto = IRSTDInferencer(config, checkpoint)
    model = auto.model
    probe = torch.zeros(1, 1, 8, 8)
    per_pixel = model.activation_bytes_per_pixel(probe)
    assert per_pixel > 0
    # whole up to the default budget: 8 GiB
    assert model.max_whole_pixels(probe) == int((8 << 30) / per_pixel)
    # a budget of 64x64 pixels: a 100x130 frame runs in 64x64 windows
    budget = int(np.ceil(64 * 64 * per_pixel))
    auto = IRSTDInferencer(config, checkpoint, cfg_options={
        'model.test_cfg': dict(mode='whole', max_memory=budget)})
    assert auto.model.auto_slide_cfg(auto.model.max_whole_pixels(probe)) \
        == dict(mode='slide', crop_size=(64, 64), stride=(56, 56))
    by_hand = IRSTDInferencer(config, checkpoint, tile=64, overlap=8)
    windows = record_windows(monkeypatch)
    image = frame((100, 130), seed=5)
    result = auto(image)
    assert windows == [(64, 64)] * 6  # rows at 0, 36; columns 0, 56, 66
    np.testing.assert_array_equal(result.probabilities,
                                  by_hand(image).probabilities)
    windows.clear()
    auto(frame((60, 64), seed=5))  # within the budget: whole
    assert windows == [(60, 64)]


def test_float_frames_with_nan_are_reported_not_detected(tiny, tmp_path):
    config, checkpoint = tiny
    inferencer = IRSTDInferencer(config, checkpoint)
    image = np.full((20, 24), 0.2, np.float32)
    image[3, 4] = np.nan
    [(_, error)] = inferencer.stream([image])
    assert isinstance(error, InvalidSampleError)
    assert str(error) == ('input array: 1 pixels are NaN or infinite; a '
                          'frame must hold finite intensities')


def test_glob_takes_each_real_folder_once(tmp_path, monkeypatch):
    """``'L/**/*.png'`` with ``L/sub/loop -> ..`` went round the loop
    until the path was too long: 3 files came back 41 times each (with a
    second loop link in ``sub/deeper`` the listing had not ended after
    20 s). A glob now walks from its last folder without a wildcard as a
    folder input does; the output folder is left out as for folders."""
    root = tmp_path / 'L'
    (root / 'sub' / 'deeper').mkdir(parents=True)
    for name in ('a.png', 'sub/b.png', 'sub/deeper/c.png', 'sub/notes.txt',
                 '.hidden/d.png'):
        (root / name).parent.mkdir(exist_ok=True)
        (root / name).write_bytes(b'')
    os.symlink('..', root / 'sub' / 'loop')
    (root / 'out').mkdir()
    (root / 'out' / 'mask.png').write_bytes(b'')
    listing = find_images(str(root / '**' / '*.png'),
                          exclude=[str(root / 'out')])
    assert listing.paths == [str(root / n) for n in (
        'a.png', 'sub/b.png', 'sub/deeper/c.png')]
    assert listing.skipped == [
        (str(root / 'out'), 'excluded (the output folder)'),
        (str(root / 'sub' / 'loop'), 'a link to a folder listed already')]
    # the paths are written as the pattern is (relative stays relative)
    # and wildcards in the middle select folders as glob.glob does
    monkeypatch.chdir(tmp_path)
    assert find_images('L/*/b.png').paths == ['L/sub/b.png']
    assert find_images('*/sub/*/*.png').paths == ['L/sub/deeper/c.png']
    assert find_images('L/.*/*.png').paths == ['L/.hidden/d.png']
    with pytest.raises(FileNotFoundError, match='no image'):
        find_images('L/*.tif')


def test_outputs_of_frames_sharing_a_stem_do_not_collide(tiny, tmp_path):
    """``inferencer(folder, out_dir=...)`` named outputs by stem:
    ``dup.png`` and ``dup.tif`` (or ``a/x.png`` and ``b/x.png``) wrote one
    mask, the later frame's. Names are unique as tools/infer.py's."""
    config, checkpoint = tiny
    inferencer = IRSTDInferencer(config, checkpoint)
    frames = tmp_path / 'frames'
    (frames / 'a').mkdir(parents=True)
    (frames / 'b').mkdir()
    image = np.zeros((16, 24), np.uint8)
    for name, width in (('dup.png', 24), ('dup.tif', 12), ('a/x.png', 20),
                        ('b/x.png', 8)):
        cv2.imwrite(str(frames / name), image[:, :width])
    for inputs in (str(frames), str(frames / '**' / '*.*'),
                   sorted(str(p) for p in frames.rglob('*.*'))):
        out = tmp_path / f'out{len(os.listdir(tmp_path))}'
        inferencer(inputs, out_dir=str(out), return_vis=True)
        widths = {osp.relpath(path, out / 'masks'):
                  cv2.imread(path, 0).shape[1]
                  for path in map(str, (out / 'masks').rglob('*.png'))}
        assert widths == {'dup.png.png': 24, 'dup.tif.png': 12,
                          'a/x.png': 20, 'b/x.png': 8}
        assert sorted(os.listdir(out / 'overlays')) == [
            'a', 'b', 'dup.png.png', 'dup.tif.png']
