"""Model-zoo names: model-index.yml and metafiles resolved to a config and
SHA-256-checked weights, by init_model, the inferencer and the tools."""
import json
import os.path as osp

import cv2
import numpy as np
import pytest
import torch
import yaml

from serankdet.apis import IRSTDInferencer, init_model
from serankdet.apis import model_zoo
from serankdet.apis.model_zoo import (ModelZooError, load_model_index,
                                      resolve_model, verified_weights)
from serankdet.utils import file_sha256
from serankdet.cli import run_cli
from tests.tool_runner import DEMO_CONFIG, tool_main


@pytest.fixture
def zoo(tmp_path, monkeypatch):
    """A model zoo of one published random U-Net (tools/misc/
    publish_model.py), read from ``tmp_path`` as the repository root."""
    torch.manual_seed(0)
    model = init_model(DEMO_CONFIG)
    training_state = tmp_path / 'iter_8.pth'
    torch.save(dict(state_dict=model.state_dict(),
                    meta=dict(iter=8, seed=3, cfg='x = 1', env_info='dropped'),
                    optimizer=dict(state={})), training_state)
    assert run_cli(tool_main('misc/publish_model'),
                   [str(training_state), 'tiny-unet', '--out-dir',
                    str(tmp_path / 'checkpoints')]) == 0
    (weights, ) = (tmp_path / 'checkpoints').iterdir()
    sha256 = file_sha256(str(weights))
    assert weights.name == f'tiny-unet-{sha256[:8]}.pth'
    (tmp_path / 'configs' / 'unet').mkdir(parents=True)
    (tmp_path / 'configs' / 'unet' / 'metafile.yaml').write_text(
        'Models:\n'
        '  - Name: tiny-unet\n'
        f'    Config: {DEMO_CONFIG}\n'
        f'    Weights: checkpoints/{weights.name}\n'
        '    Metadata:\n'
        f'      SHA256: {sha256}\n'
        '    Results:\n'
        '      - Dataset: synthetic\n'
        '        Metrics: {IoU: 12.5}\n')
    (tmp_path / 'model-index.yml').write_text(
        'Import:\n  - configs/unet/metafile.yaml\n')
    monkeypatch.setattr(model_zoo, 'ZOO_ROOT', str(tmp_path))
    return dict(root=tmp_path, weights=weights, model=model)


def test_published_file_keeps_weights_and_plain_metadata_only(zoo):
    published = torch.load(zoo['weights'], weights_only=True)
    assert set(published) == {'state_dict', 'meta'}
    assert published['meta'] == dict(iter=8, seed=3, cfg='x = 1')
    for key, value in zoo['model'].state_dict().items():
        assert torch.equal(published['state_dict'][key], value)


def test_index_lists_the_metafile_models(zoo):
    (entry, ) = load_model_index().values()
    assert entry.name == 'tiny-unet'
    assert entry.config == DEMO_CONFIG
    assert entry.weights == str(zoo['weights'])
    assert entry.results[0]['Metrics'] == {'IoU': 12.5}


def test_init_model_and_inferencer_take_a_name(zoo):
    frame = np.random.default_rng(0).integers(0, 255, (32, 32), np.uint8)
    model = init_model('tiny-unet')
    for key, value in zoo['model'].state_dict().items():
        assert torch.equal(model.state_dict()[key], value)
    by_name = IRSTDInferencer('tiny-unet')(frame)
    by_path = IRSTDInferencer(DEMO_CONFIG, str(zoo['weights']))(frame)
    assert np.array_equal(by_name.probabilities, by_path.probabilities)
    # a name as the checkpoint of a config path
    assert resolve_model(DEMO_CONFIG, 'tiny-unet') == (DEMO_CONFIG,
                                                       str(zoo['weights']))


def test_paths_pass_unchanged(zoo):
    assert resolve_model(DEMO_CONFIG, None) == (DEMO_CONFIG, None)
    assert resolve_model('configs/missing.py', 'w/missing.pth') == (
        'configs/missing.py', 'w/missing.pth')


def test_changed_weights_are_refused(zoo):
    data = bytearray(zoo['weights'].read_bytes())
    data[-10] ^= 1
    zoo['weights'].write_bytes(bytes(data))
    with pytest.raises(ModelZooError,
                       match=r'tiny-unet .* do not match their SHA-256'):
        init_model('tiny-unet')
    zoo['weights'].unlink()
    with pytest.raises(ModelZooError, match='weights of tiny-unet not found'):
        init_model('tiny-unet')


def test_unknown_name_lists_the_shipped_models(zoo):
    with pytest.raises(ModelZooError,
                       match='"acm" is neither a file nor a model-zoo name; '
                       'the shipped models are: tiny-unet'):
        init_model('acm')


def test_name_without_repository(zoo, monkeypatch, tmp_path):
    monkeypatch.setattr(model_zoo, 'ZOO_ROOT', str(tmp_path / 'wheel'))
    with pytest.raises(ModelZooError, match='"tiny-unet" is not a file; no '
                       'model-index.yml in .*need the repository'):
        init_model('tiny-unet')


def test_tools_take_a_name(zoo, tmp_path, capsys):
    frames = tmp_path / 'frames'
    frames.mkdir()
    rng = np.random.default_rng(1)
    cv2.imwrite(str(frames / 'f.png'),
                rng.integers(0, 255, (32, 48), np.uint8))
    out = tmp_path / 'out'
    assert run_cli(tool_main('infer'),
                   ['tiny-unet', str(frames), '--out-dir', str(out)]) == 0
    assert (out / 'masks' / 'f.png').is_file()
    # a changed file is refused by the tool with one error line
    zoo['weights'].write_bytes(b'not the published file')
    assert run_cli(tool_main('infer'),
                   ['tiny-unet', str(frames), '--out-dir',
                    str(tmp_path / 'out2')]) == 2
    assert 'do not match their SHA-256' in capsys.readouterr().err


def test_publish_with_a_record_enters_the_model_in_the_zoo(tmp_path,
                                                           monkeypatch):
    torch.manual_seed(0)
    training_state = tmp_path / 'epoch_4.pth'
    torch.save(dict(state_dict=init_model(DEMO_CONFIG).state_dict(),
                    meta=dict(epoch=4)), training_state)
    config = osp.relpath(DEMO_CONFIG, model_zoo.ZOO_ROOT)
    record = dict(config=config, seed=2, schedule='4 epochs',
                  machine='x86_64, 2 cores, 1 thread(s)', wall_seconds=5400,
                  command='python benchmarks/reproduce.py ... --seed 2',
                  scored_checkpoint='epoch_4.pth',
                  final=dict(hungarian=dict(IoU=0.123456, nIoU=0.5,
                                            Pd=0.987654, Fa=12.3456),
                             greedy=dict(IoU=0.123456, nIoU=0.5, Pd=0.99,
                                         Fa=12.3456)))
    (tmp_path / 'record.json').write_text(json.dumps(record))
    (tmp_path / 'unfinished.json').write_text(json.dumps(
        dict(status='in progress', command='python benchmarks/reproduce.py '
             'X --seed 2')))
    publish = tool_main('misc/publish_model')
    args = [str(training_state), 'tiny-unet', '--out-dir',
            str(tmp_path / 'checkpoints'), '--root', str(tmp_path)]
    with pytest.raises(ValueError, match=r'unfinished\.json is the record of '
                       r'an unfinished run \(status: in progress\): finish '
                       r'it with python benchmarks/reproduce.py X --seed 2'):
        publish(args + ['--record', str(tmp_path / 'unfinished.json')])
    assert not (tmp_path / 'checkpoints').exists()
    publish(args + ['--record', str(tmp_path / 'record.json')])
    monkeypatch.setattr(model_zoo, 'ZOO_ROOT', str(tmp_path))
    assert (tmp_path / 'model-index.yml').read_text() == (
        'Import:\n- configs/unet/metafile.yaml\n')
    model = load_model_index()['tiny-unet']
    assert model.config == str(tmp_path / config)
    assert verified_weights(model) == model.weights
    assert model.results == (
        dict(Task='Infrared Small Target Detection', Dataset='synthetic',
             Metrics=dict(IoU=12.35, nIoU=50.0, Pd=98.77, Fa=12.35,
                          matching='hungarian')),
        dict(Task='Infrared Small Target Detection', Dataset='synthetic',
             Metrics=dict(IoU=12.35, nIoU=50.0, Pd=99.0, Fa=12.35,
                          matching='greedy')))
    metafile = yaml.safe_load(
        (tmp_path / 'configs/unet/metafile.yaml').read_text())
    assert metafile['Collections'] == [
        dict(Name='unet', README='configs/unet/README.md')]
    assert metafile['Models'][0]['Metadata']['Training Time (h)'] == 1.5
