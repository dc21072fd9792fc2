"""A crafted checkpoint runs nothing on any path that loads one: each tool
stops with one ``error:`` line naming the file and the offending global."""
import argparse
import os
import os.path as osp
import runpy
import subprocess
import sys

import cv2
import numpy as np
import pytest
import torch

from serankdet.apis import init_model
from serankdet.cli import run_cli
from serankdet.utils import UnsafeCheckpointError, load_checkpoint_file
from tests.conftest import REPO_ROOT
from tests.payloads import PAYLOADS, write_hostile_checkpoint
from tests.tool_runner import run_tool_cli

CONVERTER = osp.join(REPO_ROOT, 'tools', 'model_converters',
                     'official2serankdet.py')


@pytest.fixture(params=sorted(PAYLOADS))
def hostile(request, tmp_path):
    """(checkpoint path, marker path, global the error must name)."""
    path, marker = write_hostile_checkpoint(str(tmp_path), request.param)
    yield path, marker, PAYLOADS[request.param][1]
    assert not osp.exists(marker), 'the payload ran'


def _single_error_line(err, path, global_name):
    lines = [line for line in err.splitlines() if line.startswith('error:')]
    assert len(lines) == 1 and 'Traceback' not in err, err
    assert lines[0].startswith(f'error: checkpoint {path} was not loaded: '
                               f'it refers to {global_name}'), lines[0]


def test_test_tool(hostile, tiny_config, capsys):
    path, _, name = hostile
    assert run_tool_cli('test', tiny_config, path) == 2
    _single_error_line(capsys.readouterr().err, path, name)


def test_load_from(hostile, tiny_config, tmp_path, capsys):
    path, _, name = hostile
    assert run_tool_cli('train', tiny_config, '--work-dir',
                        str(tmp_path / 'work'), '--cfg-options',
                        f'load_from={path}') == 2
    _single_error_line(capsys.readouterr().err, path, name)


def test_resume(hostile, tiny_config, tmp_path, capsys):
    path, _, name = hostile
    assert run_tool_cli('train', tiny_config, '--work-dir',
                        str(tmp_path / 'work'), '--resume', path) == 2
    _single_error_line(capsys.readouterr().err, path, name)


def test_init_model(hostile, tiny_config):
    path, _, name = hostile
    with pytest.raises(UnsafeCheckpointError, match=f'it refers to {name}'):
        init_model(tiny_config, path)


def test_converter(hostile, tmp_path, capsys):
    path, _, name = hostile
    main = runpy.run_path(CONVERTER)['main']
    dst = str(tmp_path / 'converted.pth')
    assert run_cli(main, ['--model', 'serankdet', path, dst]) == 2
    _single_error_line(capsys.readouterr().err, path, name)
    assert not osp.exists(dst)


def test_infer_tool_command_line(hostile, tiny_config, tmp_path):
    """The real command line: exit status 2, no traceback."""
    path, _, name = hostile
    frame = str(tmp_path / 'frame.png')
    cv2.imwrite(frame, np.zeros((32, 32), np.uint8))
    result = subprocess.run(
        [sys.executable, 'tools/infer.py', tiny_config, path, frame,
         '--out-dir', str(tmp_path / 'out')],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=300,
        env=dict(os.environ, PYTHONPATH=REPO_ROOT))
    assert result.returncode == 2, result.stderr
    _single_error_line(result.stderr, path, name)


def test_unsafe_resume_only_on_request(tiny_config, tmp_path, capfd):
    """A training state holding a foreign object (another toolbox's runner
    state) resumes only with --unsafe-resume, which says what it does."""
    work = str(tmp_path / 'work')
    assert run_tool_cli('train', tiny_config, '--work-dir', work,
                        '--cfg-options', 'train_cfg.max_iters=3') == 0
    state = torch.load(osp.join(work, 'iter_3.pth'), weights_only=False)
    state['meta']['foreign'] = argparse.Namespace(note='from elsewhere')
    foreign = str(tmp_path / 'foreign.pth')
    torch.save(state, foreign)
    capfd.readouterr()

    args = ['--work-dir', work, '--resume', foreign, '--cfg-options',
            'train_cfg.max_iters=4']
    assert run_tool_cli('train', tiny_config, *args) == 2
    _single_error_line(capfd.readouterr().err, foreign, 'argparse.Namespace')

    assert run_tool_cli('train', tiny_config, *args, '--unsafe-resume') == 0
    output = ''.join(capfd.readouterr())
    assert f'--unsafe-resume: unpickling {foreign} fully' in output
    assert load_checkpoint_file(osp.join(work, 'iter_4.pth'))['meta'][
        'iter'] == 4

    assert run_tool_cli('train', tiny_config, '--unsafe-resume') == 2
    assert capfd.readouterr().err.startswith(
        'error: --unsafe-resume only applies with --resume')
