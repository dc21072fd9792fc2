"""Frames of any size go through every model without flags: a frame above
what a network takes in one pass runs in sliding windows by itself."""
import json
import os.path as osp

import cv2
import numpy as np
import pytest
import torch
from mmengine.config import Config

from serankdet.apis import IRSTDInferencer
from serankdet.cli import run_cli
from serankdet.models.segmentors import irstd_segmentor
from serankdet.registry import MODELS
from tests.conftest import REPO_ROOT
from tests.tool_runner import run_tool_cli, tool_main

SERANKDET_W8 = osp.join(REPO_ROOT, 'configs', 'serankdet',
                        'serankdet-w8_1xb4-400i_sirst-256x256.py')
#: (H, W) of common sensor frames: 640x512, 1280x1024, 1920x1080
LARGE_FRAMES = [(512, 640), (1024, 1280), (1080, 1920)]


#: one config per seed model; DATransNet and SAM-SPL at reduced widths (the
#: same blocks and size rules) so that 1920x1080 takes seconds on 2 cores
MODEL_CONFIGS = {
    'serankdet': SERANKDET_W8,
    'datransnet': osp.join(REPO_ROOT, 'tests', 'data', 'configs',
                           'datransnet-w4_nudt-sirst.py'),
    'samspl': osp.join(REPO_ROOT, 'tests', 'data', 'configs',
                       'samspl-w24_nudt-sirst.py'),
}


@pytest.fixture(scope='module', params=sorted(MODEL_CONFIGS))
def model_checkpoint(request, tmp_path_factory):
    """(config, random-weight checkpoint) of each seed model."""
    config = MODEL_CONFIGS[request.param]
    torch.manual_seed(0)
    model = MODELS.build(Config.fromfile(config).model)
    path = str(tmp_path_factory.mktemp(request.param) / 'weights.pth')
    torch.save(dict(state_dict=model.state_dict(), meta={}), path)
    return config, path


def _frame(shape, seed):
    rng = np.random.default_rng(seed)
    image = rng.integers(0, 60, shape, dtype=np.uint8)
    mask = np.zeros(shape, np.uint8)
    for y, x in rng.integers(10, min(shape) - 10, (3, 2)):
        image[y - 1:y + 2, x - 1:x + 2] = 250
        mask[y - 1:y + 2, x - 1:x + 2] = 255
    return image, mask


def test_model_limits_and_derived_windows():
    serankdet = MODELS.build(Config.fromfile(SERANKDET_W8).model)
    assert serankdet.max_input_side == 512
    # K = 512, 256, 128, 64, 32 at 1/1 ... 1/16: (96/16)**2 = 36 >= 32,
    # while (80/16)**2 = 25 < 32
    assert serankdet.min_input_side == 96
    assert serankdet.auto_slide_cfg() == dict(
        mode='slide', crop_size=(512, 512), stride=(448, 448))
    for config in ('datransnet/datransnet_1xb4-400e_nudt-sirst-256x256.py',
                   'samspl/samspl-t_1xb12-300e_nudt-sirst-256x256.py'):
        cfg = Config.fromfile(osp.join(REPO_ROOT, 'configs', config)).model
        model = MODELS.build(cfg)
        assert model.max_input_side is None  # any size whole
        assert model.min_input_side is None


def test_whole_mode_slides_only_above_the_limit(monkeypatch):
    torch.manual_seed(0)
    model = MODELS.build(Config.fromfile(SERANKDET_W8).model).eval()
    windows = []
    encode = model.encode_decode
    monkeypatch.setattr(model, 'encode_decode',
                        lambda x: windows.append(x.shape[-2:]) or encode(x))
    with torch.no_grad():
        model.inference(torch.rand(1, 3, 512, 512))
        assert windows == [(512, 512)]  # whole
        windows.clear()
        logits = model.inference(torch.rand(1, 3, 512, 640))
    # columns start at 0 and at the border (640 - 512): two windows
    assert windows == [(512, 512), (512, 512)]
    assert logits.shape == (1, 1, 512, 640)
    # below the Top-K minimum: padded to 96, cropped back
    windows.clear()
    frame = torch.rand(1, 3, 32, 112)
    with torch.no_grad():
        logits = model.inference(frame)
        padded = torch.zeros(1, 3, 96, 112)
        padded[..., :32, :] = frame
        expected = model.encode_decode(padded)[..., :32, :]
    assert windows[0] == (96, 112)
    assert logits.shape == (1, 1, 32, 112)
    torch.testing.assert_close(logits, expected, rtol=0, atol=0)


@pytest.mark.slow
def test_infer_tool_on_mixed_sizes(model_checkpoint, tmp_path, capfd,
                                   monkeypatch):
    """640x512, 1280x1024 and 1920x1080 frames are detected without flags
    (SeRankDet in sliding windows, the others whole), a 32x32 frame too
    (SeRankDet pads it to its Top-K minimum); a frame that cannot be read
    is listed at the end and does not stop the folder."""
    frames = tmp_path / 'frames'
    frames.mkdir()
    for index, shape in enumerate(LARGE_FRAMES):
        cv2.imwrite(str(frames / f'large_{index}.png'), _frame(shape, index)[0])
    cv2.imwrite(str(frames / 'small.png'), _frame((32, 32), 9)[0])
    (frames / 'a_broken.png').write_bytes(b'\x89PNG\r\n\x1a\n broken')
    out = tmp_path / 'out'
    logged = []
    monkeypatch.setattr(irstd_segmentor, 'print_log',
                        lambda message, **kwargs: logged.append(message))
    code = run_cli(tool_main('infer'), [*model_checkpoint, str(frames),
                                        '--out-dir', str(out)])
    assert code == 1
    err = capfd.readouterr().err
    assert '1 file(s) could not be processed' in err
    # SeRankDet says once that it slides; whole-frame models never do
    if model_checkpoint[0] == SERANKDET_W8:
        assert len(logged) == 1
        assert '(first 512x640) run in 512x512 sliding windows with ' \
            'stride 448' in logged[0]
    else:
        assert logged == []
    assert f'{frames}/a_broken.png: ' in err
    report = json.loads((out / 'targets.json').read_text())
    assert [(f['name'], f['height'], f['width']) for f in report['frames']] \
        == [(f'large_{i}', h, w) for i, (h, w) in enumerate(LARGE_FRAMES)
            ] + [('small', 32, 32)]
    assert cv2.imread(str(out / 'masks' / 'small.png'), 0).shape == (32, 32)
    for index, shape in enumerate(LARGE_FRAMES):
        mask = cv2.imread(str(out / 'masks' / f'large_{index}.png'), 0)
        assert mask.shape == shape


@pytest.mark.slow
def test_test_tool_on_large_frames(model_checkpoint, tmp_path):
    root = tmp_path / 'data'
    for folder in ('images', 'masks'):
        (root / 'test' / folder).mkdir(parents=True)
    for index, shape in enumerate(LARGE_FRAMES):
        image, mask = _frame(shape, index)
        cv2.imwrite(str(root / 'test' / 'images' / f'f{index}.png'), image)
        cv2.imwrite(str(root / 'test' / 'masks' / f'f{index}.png'), mask)
    out = tmp_path / 'metrics.json'
    assert run_tool_cli(
        'test', *model_checkpoint, '--work-dir', str(tmp_path / 'w'),
        '--out', str(out), '--cfg-options',
        f'test_dataloader.dataset.data_root={root}',
        'test_dataloader.num_workers=0',
        'test_dataloader.persistent_workers=False') == 0
    metrics = json.loads(out.read_text())['metrics']
    assert metrics['irstd/num_images'] == 3
    assert metrics['irstd/num_targets'] == 9


@pytest.mark.parametrize('config, options', [
    ('datransnet/datransnet_1xb4-400e_nudt-sirst-256x256.py', None),
    ('samspl/samspl-t_1xb12-300e_nudt-sirst-256x256.py',
     {'model.backbone.trunk.pretrained': None}),
])
def test_whole_frame_models_take_a_sensor_frame(config, options):
    """DATransNet and SAM-SPL take any padded size whole (640x512 here;
    1280x1024 and 1920x1080 too, 10-40 s each on 2 CPU cores)."""
    torch.manual_seed(0)
    inferencer = IRSTDInferencer(osp.join(REPO_ROOT, 'configs', config),
                                 cfg_options=options)
    result = inferencer(_frame(LARGE_FRAMES[0], 0)[0])
    assert result.mask.shape == LARGE_FRAMES[0]
