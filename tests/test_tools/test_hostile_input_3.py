"""Hostile input, round 3 (issue 29): each case ends in one ``error:`` line
(or does what it says) instead of a traceback, an overwrite or a silent
no-op."""
import argparse
import errno
import glob
import json
import os
import os.path as osp
import re
import sys

import pytest
from mmengine.hooks import Hook

from serankdet.cli import add_common_args, lock_work_dir
from serankdet.cli.work_dir import LOCK_FILE
from serankdet.registry import HOOKS
from tests.tool_runner import run_tool_cli, write_config


def error_lines(capsys):
    """The ``error:`` lines the tool printed on stderr."""
    return [line for line in capsys.readouterr().err.splitlines()
            if line.startswith('error:')]


# case 12 and 15: --cfg-options that mmengine's DictAction fails on or
# misreads
@pytest.mark.parametrize('pair, message', [
    ('train_dataloader.dataset.data_prefix=dict(img_path=images,'
     'seg_map_path=masks)',
     r'dict values are not supported; set each entry on its own, e\.g\. '
     r'train_dataloader\.dataset\.data_prefix\.KEY=VALUE'),
    ("a=dict(img_path='x')", 'dict values are not supported'),
    ("v=[dict(type='LocalVisBackend')]", 'dict values are not supported'),
    ('a={1: 2}', 'dict values are not supported'),
    ('lr=[1,2', r'unbalanced "\[" and "\]"'),
    ('lr=(1,2', r'unbalanced "\(" and "\)"'),
    ('foo', 'expected KEY=VALUE'),
    ('=3', 'expected KEY=VALUE'),
])
def test_cfg_options_refuses_what_dictaction_cannot_take(pair, message):
    parser = argparse.ArgumentParser()
    add_common_args(parser)
    with pytest.raises(ValueError,
                       match=rf'^--cfg-options {re.escape(pair)}: {message}'):
        parser.parse_args(['--cfg-options', pair])


def test_cfg_options_error_is_one_line(tiny_config, capsys):
    assert run_tool_cli('train', tiny_config, '--cfg-options',
                        'lr=[1,2') == 2
    assert error_lines(capsys) == [
        'error: --cfg-options lr=[1,2: unbalanced "[" and "]"']


# case 15: files that are no config
@pytest.mark.parametrize('name, text, message', [
    ('bad.py', 'x = (\n', r'config file ".*bad\.py", line 1: '
     "'\\(' was never closed"),
    ('empty.py', '', r'config file ".*empty\.py" defines nothing'),
    ('cfg.txt', 'a = 1\n', r'config file ".*cfg\.txt": a config is a '
     r'\.py/\.json/\.yml/\.yaml file'),
])
def test_config_that_is_no_config(tmp_path, capsys, name, text, message):
    path = tmp_path / name
    path.write_text(text)
    assert run_tool_cli('train', str(path), '--work-dir',
                        str(tmp_path / 'work')) == 2
    line, = error_lines(capsys)
    assert re.match(f'error: {message}', line), line
    assert not (tmp_path / 'work').exists()


def test_syntax_error_in_a_base_config_names_the_base(tmp_path, capsys):
    (tmp_path / 'base.py').write_text('model = dict(\n  type="X",,\n)\n')
    child = tmp_path / 'child.py'
    child.write_text("_base_ = ['base.py']\n")
    assert run_tool_cli('train', str(child)) == 2
    line, = error_lines(capsys)
    assert line.startswith(f'error: config file "{tmp_path / "base.py"}", '
                           'line 2: '), line


# case 4: one work dir, one training at a time
def test_second_training_into_a_locked_work_dir_writes_nothing(
        tiny_config, tmp_path, capsys):
    work = tmp_path / 'work'
    with lock_work_dir(str(work)):
        assert run_tool_cli('train', tiny_config, '--work-dir',
                            str(work)) == 2
        assert os.listdir(work) == [LOCK_FILE]
    assert not work.exists()  # the lock created it, and removed it
    line, = error_lines(capsys)
    assert line == (f'error: work dir {work} is in use by another run (pid '
                    f'{os.getpid()}); wait for it to end or give another '
                    '--work-dir')


def test_lock_is_released_and_a_stale_lock_file_does_not_block(
        tiny_config, tmp_path):
    work = tmp_path / 'work'
    work.mkdir()
    (work / LOCK_FILE).write_text('pid 1\n')  # left by a killed run
    assert run_tool_cli('train', tiny_config, '--work-dir', str(work),
                        '--cfg-options', 'train_cfg.max_iters=1') == 0
    assert not (work / LOCK_FILE).exists()  # released and removed
    assert osp.isfile(work / 'iter_1.pth')


def test_failed_start_in_a_new_work_dir_leaves_nothing(tmp_path):
    work = tmp_path / 'work'
    with pytest.raises(RuntimeError, match='boom'):
        with lock_work_dir(str(work)):
            raise RuntimeError('boom')
    assert not work.exists()


# case 9: --out is checked before the test runs
@pytest.fixture
def checkpoint(tmp_path):
    path = tmp_path / 'model.pth'
    path.write_bytes(b'never read: the checks come first')
    return str(path)


def test_test_out_never_overwrites_without_force(tiny_config, checkpoint,
                                                 tmp_path, capsys):
    out = tmp_path / 'metrics.json'
    out.write_text('my results')
    assert run_tool_cli('test', tiny_config, checkpoint, '--out',
                        str(out)) == 2
    assert error_lines(capsys) == [
        f'error: --out {out} already exists; give another name or add '
        '--force to replace it']
    assert out.read_text() == 'my results'
    assert not (tmp_path / 'test_model').exists()  # the run never started


def test_test_out_is_a_folder(tiny_config, checkpoint, tmp_path, capsys):
    assert run_tool_cli('test', tiny_config, checkpoint, '--save-curves',
                        str(tmp_path)) == 2
    assert error_lines(capsys) == [
        f'error: --save-curves {tmp_path} is a folder; give a file name']


def test_test_out_below_a_file(tiny_config, checkpoint, tmp_path, capsys):
    assert run_tool_cli('test', tiny_config, checkpoint, '--out',
                        f'{checkpoint}/metrics.json') == 2
    assert error_lines(capsys) == [
        f'error: --out {checkpoint}/metrics.json: {checkpoint} is a file, '
        'not a folder']


@pytest.mark.skipif(os.geteuid() == 0, reason='root writes anywhere')
def test_test_out_in_a_read_only_folder(tiny_config, checkpoint, tmp_path,
                                        capsys):
    folder = tmp_path / 'read_only'
    folder.mkdir()
    folder.chmod(0o500)
    assert run_tool_cli('test', tiny_config, checkpoint, '--out',
                        str(folder / 'sub' / 'm.json')) == 2
    assert error_lines(capsys) == [
        f'error: --out {folder}/sub/m.json: cannot write in {folder}; give a '
        'path in a writable folder']


# case 17: TensorBoard by one switch
def test_tensorboard_switch_writes_events(tiny_config, tmp_path):
    work = tmp_path / 'work'
    assert run_tool_cli('train', tiny_config, '--work-dir', str(work),
                        '--tensorboard', '--cfg-options',
                        'train_cfg.max_iters=2', 'train_cfg.val_interval=2',
                        'default_hooks.checkpoint.interval=2') == 0
    events, = glob.glob(str(work / '*' / 'vis_data' /
                            'events.out.tfevents.*'))
    from tensorboard.backend.event_processing.event_accumulator import \
        EventAccumulator
    accumulator = EventAccumulator(events)
    accumulator.Reload()
    assert 'loss' in accumulator.Tags()['scalars']


# case 19: Ctrl-C while training
@HOOKS.register_module(force=True)
class _InterruptAtIteration2(Hook):
    """What Ctrl-C does: KeyboardInterrupt in the middle of training."""

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None):
        if runner.iter + 1 == 2:
            raise KeyboardInterrupt


def test_ctrl_c_prints_one_line_with_the_resume_command(tmp_path, capsys):
    config = write_config(
        str(tmp_path), 'interrupted.py',
        "custom_hooks = [dict(type='_InterruptAtIteration2')]")
    work = tmp_path / 'work'
    assert run_tool_cli('train', config, '--work-dir', str(work)) == 130
    err = capsys.readouterr().err
    assert err.strip().splitlines()[-1] == (
        f'interrupted at iteration 2; resume with: python tools/train.py '
        f'{config} --work-dir {work} --resume')
    assert 'Traceback' not in err


# case 15: a disk full during a checkpoint save
def test_disk_full_during_a_checkpoint_save(tiny_config, tmp_path, capsys,
                                            monkeypatch):
    import mmengine.runner.runner as mmengine_runner

    def full_disk(checkpoint, filename, **kwargs):
        with open(filename, 'wb') as handle:
            handle.write(b'half a checkpoint')
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(mmengine_runner, 'save_checkpoint', full_disk)
    work = tmp_path / 'work'
    assert run_tool_cli('train', tiny_config, '--work-dir', str(work)) == 2
    assert error_lines(capsys) == [
        f'error: the disk is full writing {work}/iter_3.pth; free some '
        'space and run again']
    assert not glob.glob(str(work / '**' / '*.partial'), recursive=True)


# case 15: ONNX export without a checkpoint or without the deploy extra
def test_export_onnx_missing_checkpoint(tiny_config, tmp_path, capsys):
    assert run_tool_cli('deployment/export_onnx', tiny_config,
                        str(tmp_path / 'no.pth'),
                        str(tmp_path / 'm.onnx')) == 2
    assert error_lines(capsys) == [
        f'error: checkpoint "{tmp_path}/no.pth" does not exist (\'none\': '
        'random weights)']


@pytest.mark.parametrize('exporter, package', [('dynamo', 'onnxscript'),
                                               ('torchscript', 'onnx')])
def test_export_onnx_without_the_deploy_extra(tiny_config, tmp_path, capsys,
                                              monkeypatch, exporter,
                                              package):
    monkeypatch.setitem(sys.modules, package, None)  # not importable
    assert run_tool_cli('deployment/export_onnx', tiny_config, 'none',
                        str(tmp_path / 'm.onnx'), '--exporter',
                        exporter) == 2
    assert error_lines(capsys) == [
        f'error: ONNX export ({exporter} exporter) needs the {package} '
        'package: install with `pip install -e .[deploy]`']


# case 19: the license setup.py declares ships with the sources
def test_apache_license_ships_with_the_sdist(monkeypatch):
    from setuptools._distutils.filelist import FileList
    from tests.conftest import REPO_ROOT
    monkeypatch.chdir(REPO_ROOT)
    manifest = FileList()
    manifest.findall()
    with open('MANIFEST.in') as handle:
        for line in handle:
            if line.strip() and not line.startswith('#'):
                manifest.process_template_line(line)
    assert 'LICENSE' in manifest.files
    with open('LICENSE') as handle:
        text = handle.read()
    assert 'Apache License\n                           Version 2.0' in text
    assert 'END OF TERMS AND CONDITIONS' in text
    with open('setup.py') as handle:
        assert "license='Apache-2.0'" in handle.read()


# case 16: a rerun of the demo tests what it just trained
@pytest.mark.slow
def test_demo_rerun_tests_its_own_checkpoint(tmp_path):
    from tests.conftest import REPO_ROOT
    from tests.tool_runner import run_tool
    work = tmp_path / 'demo'
    short = ['--cfg-options', 'train_cfg.max_iters=2',
             'train_cfg.val_interval=2', 'default_hooks.checkpoint.interval=2']
    trained = []
    # the rerun with METRICS_OUT (where docs/claims.yml reads the demo's
    # IoU from) also writes its test metrics there
    metrics_out = tmp_path / 'demo.json'
    for env in (dict(WORK_DIR=str(work)),
                dict(WORK_DIR=str(work), METRICS_OUT=str(metrics_out))):
        result = run_tool(['bash', 'tools/demo.sh'] + short, cwd=REPO_ROOT,
                          env=env)
        last = result.stdout.strip().splitlines()[-1]
        assert last.startswith('trained checkpoint: '), last
        trained.append(last[len('trained checkpoint: '):])
    first, rerun = trained
    assert first == f'{work}/iter_2.pth'
    assert re.fullmatch(rf'{work}/run_\d{{8}}_\d{{6}}/iter_2\.pth', rerun)
    first_metrics, = glob.glob(str(work / '2*' / 'test_metrics.json'))
    with open(first_metrics) as handle:
        assert json.load(handle)['checkpoint'] == first
    with open(metrics_out) as handle:
        recorded = json.load(handle)
    assert recorded['checkpoint'] == rerun
    assert 0 <= recorded['metrics']['irstd/IoU'] <= 1


# case 10: a 0-byte image in a dataset
def _dataset_with_an_empty_image(folder):
    """A tiny IRSTD layout (trainval and test) whose trainval image b.png
    has 0 bytes."""
    import cv2
    import numpy as np
    noise = np.random.default_rng(0).integers(0, 256, (32, 32), np.uint8)
    for split in ('trainval', 'test'):
        for stem in 'abcd':
            for kind, pixels in (('images', noise), ('masks', noise // 128)):
                path = folder / split / kind / f'{stem}.png'
                path.parent.mkdir(parents=True, exist_ok=True)
                cv2.imwrite(str(path), pixels * (255 if kind == 'masks'
                                                 else 1))
    empty = folder / 'trainval' / 'images' / 'b.png'
    empty.write_bytes(b'')
    return empty


def test_check_dataset_names_an_empty_image(tmp_path, capsys):
    empty = _dataset_with_an_empty_image(tmp_path)
    with pytest.raises(SystemExit) as info:
        run_tool_cli('misc/check_dataset', str(tmp_path))
    assert info.value.code == 1
    assert (f'  {empty}: unreadable (corrupt, truncated or not an image)'
            in capsys.readouterr().out)


def test_training_on_an_empty_image_names_it(tmp_path, capsys):
    empty = _dataset_with_an_empty_image(tmp_path / 'irstd')
    dataset = dict(
        type='IRSTDDataset', data_root=str(tmp_path / 'irstd'),
        data_prefix=dict(img_path='trainval/images',
                         seg_map_path='trainval/masks'),
        pipeline=[dict(type='LoadIRSTDImageFromFile'),
                  dict(type='LoadIRSTDAnnotations'),
                  dict(type='PackIRSTDInputs')], _delete_=True)
    config = write_config(str(tmp_path), 'empty_image.py',
                          f'train_dataloader = dict(dataset={dataset!r})')
    assert run_tool_cli('train', config, '--work-dir',
                        str(tmp_path / 'work')) == 2
    assert error_lines(capsys) == [
        f'error: cannot decode {empty}: the file is empty']


def test_vis_backends_changed_in_a_child_config_is_refused(tmp_path,
                                                           capsys):
    config = write_config(
        str(tmp_path), 'tensorboard.py',
        "vis_backends = [dict(type='LocalVisBackend'), "
        "dict(type='TensorboardVisBackend')]")
    assert run_tool_cli('train', config, '--work-dir',
                        str(tmp_path / 'work')) == 2
    assert error_lines(capsys) == [
        'error: vis_backends differs from visualizer.vis_backends, which the '
        'visualizer uses (a base config built it from the variable before '
        'the change); set visualizer = dict(vis_backends=vis_backends) too, '
        'or train with --tensorboard']


# leftover: tools/test.py --show-dir named panels by stem
def test_show_dir_gives_frames_sharing_a_stem_a_panel_each(tmp_path):
    """A test set of two folders (a ConcatDataset) that both hold
    ``f0.png`` wrote one panel, the later frame's: panels are named by the
    frames' paths below the folder holding every test frame, as
    tools/infer.py names its outputs."""
    import cv2
    import numpy as np
    import torch

    from serankdet.apis import init_model
    image, mask = np.zeros((32, 32), np.uint8), np.zeros((32, 32), np.uint8)
    image[10:13, 10:13], mask[10:13, 10:13] = 200, 255
    for part in ('a', 'b'):
        for sub, array in (('images', image), ('masks', mask)):
            (tmp_path / 'sets' / part / sub).mkdir(parents=True)
            cv2.imwrite(str(tmp_path / 'sets' / part / sub / 'f0.png'), array)
    split = ("dict(type='IRSTDDataset', data_root={!r}, test_mode=True, "
             "data_prefix=dict(img_path='images', seg_map_path='masks'), "
             "pipeline={{{{_base_.test_pipeline}}}})")
    config = write_config(str(tmp_path), 'two_sets.py', (
        "test_dataloader = dict(dataset=dict(_delete_=True, "
        "type='ConcatDataset', datasets=[{}, {}]))").format(
            *(split.format(str(tmp_path / 'sets' / part))
              for part in ('a', 'b'))))
    checkpoint = tmp_path / 'model.pth'
    torch.save(dict(state_dict=init_model(config).state_dict()), checkpoint)
    panels = tmp_path / 'panels'
    assert run_tool_cli('test', config, str(checkpoint), '--work-dir',
                        str(tmp_path / 'work'), '--show-dir',
                        str(panels)) == 0
    assert sorted(osp.relpath(path, panels) for path in glob.glob(
        str(panels / '**' / '*.png'), recursive=True)) == [
            'a/images/f0.png', 'b/images/f0.png']
