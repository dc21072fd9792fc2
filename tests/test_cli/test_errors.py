"""Errors users meet give one clear ``error: ...`` message (exit code 2)."""
import os
import re
import subprocess
import sys

import pytest
import torch

from serankdet.cli import ConfigError, build_runner, check_config
from serankdet.utils import CheckpointMismatchError, check_state_dict
from serankdet.registry import MODELS
from tests.conftest import REPO_ROOT
from tests.tool_runner import run_tool_cli, write_config


def _error(capsys):
    err = capsys.readouterr().err
    assert err.startswith('error: ') and 'Traceback' not in err, err
    return err.splitlines()[0]


@pytest.fixture
def tiny_checkpoint(tiny_config, tmp_path):
    from mmengine.config import Config
    model = MODELS.build(Config.fromfile(tiny_config).model)
    path = str(tmp_path / 'tiny.pth')
    torch.save(dict(state_dict=model.state_dict(), meta={}), path)
    return path


def test_unknown_type_names_key_and_nearest(tiny_config, capsys):
    code = run_tool_cli('train', tiny_config, '--cfg-options',
                        'model.backbone.type=UNetEncodr')
    assert code == 2
    # the three registered names closest to the typo, closest first
    assert _error(capsys) == (
        "error: unknown type 'UNetEncodr' at model.backbone.type: no "
        "registry holds it; did you mean UNetEncoder, UIUNetEncoder or "
        "MSHNetEncoder?")


def test_epoch_loop_over_an_endless_sampler(tiny_config):
    """The demo's iteration-based config draws from InfiniteSampler: made
    epoch-based without changing the sampler, its first epoch would never
    end."""
    from mmengine.config import Config
    cfg = Config.fromfile(tiny_config)
    assert cfg.train_dataloader.sampler.type == 'InfiniteSampler'
    cfg.train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=2)
    with pytest.raises(ConfigError) as error:
        check_config(cfg)
    assert str(error.value) == (
        'train_dataloader.sampler: InfiniteSampler never ends an epoch, and '
        'train_cfg is epoch-based; use DefaultSampler (--cfg-options '
        'train_dataloader.sampler.type=DefaultSampler) or an '
        "iteration-based train_cfg (type='IterBasedTrainLoop').")
    cfg.train_dataloader.sampler.type = 'DefaultSampler'
    check_config(cfg)


def test_unknown_pipeline_type(tiny_config):
    from mmengine.config import Config
    cfg = Config.fromfile(tiny_config)
    cfg.train_dataloader.dataset.pipeline[2].type = 'RandomFlp'
    with pytest.raises(ConfigError, match=r"'RandomFlp' at train_dataloader"
                       r"\.dataset\.pipeline\[2\]\.type.*RandomFlip"):
        check_config(cfg)


def test_misspelled_top_level_key(tmp_path, capsys):
    config = write_config(str(tmp_path), 'typo.py',
                          'train_dataloder = dict(batch_size=2)')
    assert run_tool_cli('train', config) == 2
    assert _error(capsys) == (
        "error: config key 'train_dataloder' is not used by the runner (it "
        "would be silently ignored); did you mean 'train_dataloader'?")


def test_misspelled_argument(tiny_config, tmp_path, capsys):
    code = run_tool_cli('train', tiny_config, '--work-dir', str(tmp_path / 'w'),
                        '--cfg-options', 'model.backbone.chanels=[4,8]')
    assert code == 2
    assert _error(capsys).startswith(
        "error: UNetEncoder has no argument 'chanels'; did you mean channels")


def test_checkpoint_of_another_variant(tiny_config, tiny_checkpoint,
                                       tmp_path, capsys):
    wide = '[8,16,32,64]'
    code = run_tool_cli(
        'test', tiny_config, tiny_checkpoint, '--work-dir',
        str(tmp_path / 'w'), '--cfg-options',
        f'model.backbone.channels={wide}', f'model.neck.in_channels={wide}',
        f'model.decode_head.in_channels={wide}')
    assert code == 2
    err = capsys.readouterr().err
    assert err.startswith(f'error: checkpoint {tiny_checkpoint} does not fit '
                          'IRSTDSegmentor (saved from another model or '
                          'variant?); nothing was loaded.\n')
    assert re.search(r'\n  \d+ shape mismatches \(checkpoint vs model\):\n'
                     r'    backbone\.\S+\.weight: 4x1x3x3 vs 8x1x3x3\n', err)
    assert re.search(r'\n    \.\.\. and \d+ more\n', err)
    assert 'missing' not in err and len(err.splitlines()) == 10


def test_checkpoint_of_another_model_loads_nothing(tiny_config,
                                                   tiny_checkpoint, tmp_path):
    from mmengine.config import Config
    cfg = Config.fromfile(tiny_config)
    cfg.work_dir = str(tmp_path / 'w')
    cfg.experiment_name = 'foreign'
    runner = build_runner(cfg)
    before = {k: v.clone() for k, v in runner.model.state_dict().items()}
    foreign = str(tmp_path / 'foreign.pth')
    state = torch.load(tiny_checkpoint)['state_dict']
    state = {k: torch.zeros_like(v) for k, v in state.items()
             if not k.startswith('decode_head')}
    state['head.fc.weight'] = torch.zeros(2, 3)
    torch.save(dict(state_dict=state), foreign)
    with pytest.raises(CheckpointMismatchError) as info:
        runner.load_checkpoint(foreign)
    message = str(info.value)
    assert re.search(r'\n  \d+ weights of the model missing from the '
                     r'checkpoint:\n    decode_head\.', message)
    assert '\n  1 checkpoint weights the model does not have:\n' \
        '    head.fc.weight (2x3)' in message
    after = runner.model.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)


def test_check_state_dict_accepts_match():
    state = dict(a=torch.zeros(2), b=torch.ones(1, 3))
    check_state_dict(state, dict(state), 'x.pth')


def _config_with_test_root(tmp_path, data_root):
    return write_config(str(tmp_path), 'test_root.py', f'''
test_dataloader = dict(dataset=dict(
    _delete_=True, type='IRSTDDataset', data_root={data_root!r},
    data_prefix=dict(img_path='test/images', seg_map_path='test/masks'),
    pipeline={{{{_base_.test_pipeline}}}}))''')


def test_missing_dataset_root(tiny_config, tiny_checkpoint, tmp_path,
                              capsys):
    """Checked before anything is built or created: one line naming the
    config key, the folder and the override that fixes it."""
    missing = str(tmp_path / 'missing')
    config = _config_with_test_root(tmp_path, missing)
    code = run_tool_cli('test', config, tiny_checkpoint, '--work-dir',
                        str(tmp_path / 'w'))
    assert code == 2
    assert _error(capsys) == (
        f'error: test_dataloader.dataset.data_root: folder {missing} does '
        f'not exist (working directory {os.getcwd()}). Get the data set '
        '(see datasets/README.md) or point the config at your copy: '
        '--cfg-options test_dataloader.dataset.data_root=/path/to/it')
    assert not (tmp_path / 'w').exists()


def test_missing_image_folder_under_existing_root(
        tiny_config, tiny_checkpoint, tmp_path, capsys):
    root = tmp_path / 'data'
    (root / 'test' / 'masks').mkdir(parents=True)
    config = _config_with_test_root(tmp_path, str(root))
    code = run_tool_cli('test', config, tiny_checkpoint, '--work-dir',
                        str(tmp_path / 'w'))
    assert code == 2
    assert _error(capsys) == (
        'error: test_dataloader.dataset.data_prefix.img_path: folder '
        f'{root}/test/images does not exist (working directory '
        f'{os.getcwd()}). Get the data set (see datasets/README.md) or point '
        'the config at your copy: --cfg-options '
        # the tiny config's train and val sets read the same root
        'train_dataloader.dataset.data_root=/path/to/it '
        'val_dataloader.dataset.data_root=/path/to/it '
        'test_dataloader.dataset.data_root=/path/to/it')


def test_input_side_the_model_cannot_take(tiny_config, tiny_checkpoint,
                                          tmp_path, capsys):
    data = str(tmp_path / 'data60')
    config = write_config(str(tmp_path), 'side60.py', f'''
model = dict(data_preprocessor=dict(size_divisor=None))
test_dataloader = dict(dataset=dict(data_root={data!r}, img_size=(60, 60)))''')
    code = run_tool_cli('test', config, tiny_checkpoint, '--work-dir',
                        str(tmp_path / 'w'))
    assert code == 2
    assert _error(capsys).startswith(
        'error: UNetEncoder needs input sides that are multiples of 8, got '
        '60x60; pad the input')


def test_command_line_prints_error_without_traceback(tmp_path, monkeypatch):
    """The real command line: one message, exit status 2; the traceback
    only with SERANKDET_DEBUG=1."""
    args = [sys.executable, 'tools/misc/check_dataset.py',
            str(tmp_path / 'nowhere')]
    result = subprocess.run(args, cwd=REPO_ROOT, capture_output=True,
                            text=True)
    assert result.returncode == 2
    assert result.stderr == (f'error: dataset root {tmp_path}/nowhere does '
                             'not exist\n(set SERANKDET_DEBUG=1 to see the '
                             'traceback)\n')
    monkeypatch.setenv('SERANKDET_DEBUG', '1')
    with pytest.raises(FileNotFoundError, match='nowhere does not exist'):
        run_tool_cli('misc/check_dataset', str(tmp_path / 'nowhere'))


def test_override_with_a_word_for_a_number(tiny_config, capsys):
    code = run_tool_cli('train', tiny_config, '--cfg-options',
                        'optim_wrapper.optimizer.lr=fast')
    assert code == 2
    assert _error(capsys) == (
        "error: --cfg-options optim_wrapper.optimizer.lr='fast': expected a "
        "number, like the config's value 0.003")


@pytest.mark.parametrize('threshold', ['1.5', '0', '-0.2'])
def test_threshold_outside_probabilities(tiny_config, tiny_checkpoint,
                                         capsys, threshold):
    code = run_tool_cli('test', tiny_config, tiny_checkpoint,
                        '--cfg-options',
                        f'model.decode_head.threshold={threshold}')
    assert code == 2
    assert _error(capsys).endswith(
        f'decode_head.threshold is a probability in (0, 1), got {threshold}')


def test_head_refuses_threshold_outside_probabilities():
    from mmengine.config import Config
    from tests.tool_runner import DEMO_CONFIG
    cfg = Config.fromfile(DEMO_CONFIG).model
    cfg.decode_head.threshold = 1.5
    with pytest.raises(ValueError, match=r'decode_head\.threshold is a '
                       r'probability in \(0, 1\), got 1\.5'):
        MODELS.build(cfg)


def test_infer_threshold_outside_probabilities(tmp_path):
    result = subprocess.run(
        [sys.executable, 'tools/infer.py', 'cfg.py', 'ckpt.pth', 'frames',
         '--threshold', '1.5'], cwd=REPO_ROOT, capture_output=True,
        text=True)
    assert result.returncode == 2
    assert result.stderr.splitlines()[-1].endswith(
        "argument --threshold: '1.5' is not a probability in (0, 1)")


def test_training_batch_of_one_names_the_fix():
    """A last training batch of one sample reaching a BatchNorm after global
    pooling (ACM, ALCNet) gets the remedy, not just PyTorch's words."""
    from serankdet.cli.errors import describe_error
    with pytest.raises(ValueError) as error:
        torch.nn.BatchNorm2d(8).train()(torch.zeros(1, 8, 1, 1))
    message = describe_error(error.value)
    assert message.startswith('Expected more than 1 value per channel when '
                              'training, got input size torch.Size([1, 8, 1,'
                              ' 1]): a training batch of one sample')
    assert message.endswith('set train_dataloader.drop_last=True or another '
                            'train_dataloader.batch_size')
