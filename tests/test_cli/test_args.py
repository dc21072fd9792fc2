"""Tool arguments: launcher flags, --cfg-options, --help before any
heavy import, and leaving the process group at exit."""
import argparse
import os
import subprocess
import sys

import pytest

from serankdet.cli import (add_common_args, add_launcher_args,
                           export_local_rank, run_cli)
from tests.conftest import REPO_ROOT


@pytest.mark.parametrize('flag', ['--local_rank=1', '--local-rank=1'])
def test_local_rank_flags(flag, monkeypatch):
    monkeypatch.delenv('LOCAL_RANK', raising=False)
    parser = argparse.ArgumentParser()
    add_launcher_args(parser)
    args = parser.parse_args(['--launcher', 'pytorch', flag])
    assert args.local_rank == 1
    export_local_rank(args)
    assert os.environ['LOCAL_RANK'] == '1'


def test_torchrun_local_rank_wins(monkeypatch):
    monkeypatch.setenv('LOCAL_RANK', '3')
    parser = argparse.ArgumentParser()
    add_launcher_args(parser)
    export_local_rank(parser.parse_args([]))
    assert os.environ['LOCAL_RANK'] == '3'


def test_cfg_options_parse_like_mmengine():
    parser = argparse.ArgumentParser()
    add_common_args(parser)
    args = parser.parse_args(['--cfg-options', 'a.b=2', 'c=[1,2]', 'd=x',
                              'e=True', '--verbose'])
    assert args.cfg_options == {'a.b': 2, 'c': [1, 2], 'd': 'x', 'e': True}
    assert args.verbose and args.work_dir is None


@pytest.mark.parametrize('tool', ['train.py', 'test.py', 'infer.py',
                                  'analysis_tools/get_flops.py'])
def test_help_answers_before_heavy_imports(tool):
    code = (f'import runpy, sys; sys.argv = [{tool!r}, "--help"]\n'
            'try:\n'
            f'    runpy.run_path("tools/{tool}", run_name="__main__")\n'
            'except SystemExit:\n'
            '    pass\n'
            'heavy = [m for m in ("torch", "mmengine", "mmseg", "mmcv") '
            'if m in sys.modules]\n'
            'print("HEAVY", heavy)\n')
    result = subprocess.run([sys.executable, '-c', code], cwd=REPO_ROOT,
                            capture_output=True, text=True)
    assert 'usage:' in result.stdout, result.stderr
    assert 'HEAVY []' in result.stdout, result.stdout[-300:]


@pytest.mark.parametrize('fails', [False, True])
def test_run_cli_leaves_the_process_group(fails, tmp_path):
    """A tool's process group is destroyed before the process exits, after
    a success (once the peers have met at a barrier) and after an error;
    left to interpreter shutdown, gloo aborted a finished DDP run in CI."""
    import torch.distributed as dist
    seen = {}

    def main(argv):
        dist.init_process_group('gloo', rank=0, world_size=1,
                                init_method=f'file://{tmp_path}/store')
        seen['initialized'] = dist.is_initialized()
        if fails:
            raise ValueError('bad input')

    assert run_cli(main) == (2 if fails else 0)
    assert seen['initialized']
    assert not dist.is_initialized()
