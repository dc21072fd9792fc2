"""Running the tools in tests: as a user does (a fresh process) or in this
process as their command line does; tiny configs that train in seconds."""
import itertools
import json
import os
import os.path as osp
import runpy
import subprocess
import textwrap

from serankdet.cli import run_cli
from serankdet.utils.cpu_threads import WAIT_VARIABLES
from tests.conftest import REPO_ROOT

DEMO_CONFIG = osp.join(REPO_ROOT, 'configs', 'unet',
                       'unet_1xb8-800i_synthetic-128x128.py')


def run_tool(args, cwd, timeout=600, env=None):
    """Run ``args`` (a tool command line) and fail with its output.

    The wait policy a tool run in this process set (``run_cli``) is not
    passed on: the tool chooses its own, as from a user's shell."""
    inherited = {k: v for k, v in os.environ.items()
                 if k not in WAIT_VARIABLES}
    full_env = dict(inherited, PYTHONPATH=REPO_ROOT, OMP_NUM_THREADS='1',
                    **(env or {}))
    result = subprocess.run(args, cwd=cwd, capture_output=True, text=True,
                            timeout=timeout, env=full_env)
    assert result.returncode == 0, (
        f'{" ".join(args)} failed ({result.returncode}):\n'
        f'{result.stdout[-4000:]}\n{result.stderr[-4000:]}')
    return result


def temp_dir_env(folder):
    """``TMPDIR`` for a tool run: a ``tmp`` folder in ``folder`` (a pytest
    temporary folder), so that what a run leaves in its temporary folder
    (torchrun's agent: a ``torchelastic_*`` folder per run, never removed)
    goes with the test's folder instead of collecting in ``/tmp``."""
    tmp = osp.join(folder, 'tmp')
    os.makedirs(tmp, exist_ok=True)
    return dict(TMPDIR=tmp)


def write_tiny_config(folder, num_train=12, num_test=5, max_iters=6,
                      interval=3):
    """A demo config shrunk to seconds: tiny synthetic set, tiny U-Net."""
    data_root = osp.join(folder, 'data')
    path = osp.join(folder, 'tiny.py')
    with open(path, 'w') as handle:
        handle.write(textwrap.dedent(f'''
            _base_ = [{DEMO_CONFIG!r}]
            channels = (4, 8, 16, 32)
            model = dict(
                backbone=dict(channels=channels),
                neck=dict(in_channels=channels),
                decode_head=dict(in_channels=channels))
            synthetic = dict(data_root={data_root!r}, num_train={num_train},
                             num_test={num_test}, img_size=(64, 64), seed=1)
            train_dataloader = dict(batch_size=4, dataset=synthetic)
            val_dataloader = dict(dataset=synthetic)
            test_dataloader = val_dataloader
            param_scheduler = [dict(type='ConstantLR', factor=1.0,
                                    by_epoch=False)]
            train_cfg = dict(max_iters={max_iters}, val_interval={interval})
            default_hooks = dict(
                logger=dict(interval=1),
                checkpoint=dict(interval={interval}, max_keep_ckpts=5))
            '''))
    return path


def read_metrics(path):
    with open(path) as handle:
        return json.load(handle)['metrics']


_names = itertools.count()


def tool_main(name):
    """The ``main`` of ``tools/<name>.py``."""
    return runpy.run_path(osp.join(REPO_ROOT, 'tools', f'{name}.py'),
                          run_name='tool')['main']


def run_tool_cli(name, *argv):
    """Exit status of ``python tools/<name>.py ARGV`` (errors users cause
    are printed, anything else raises). Each run gets its own experiment
    name: mmengine keeps message hubs per name in the process."""
    argv = list(argv)
    if name in ('train', 'test'):
        unique = f'run{next(_names)}'
        if '--cfg-options' not in argv:
            argv.append('--cfg-options')
        at = argv.index('--cfg-options') + 1
        argv[at:at] = [f'experiment_name={unique}', f'visualizer.name={unique}']
    return run_cli(tool_main(name), argv)


def write_config(folder, name, body, base=None):
    """A config file ``name`` in ``folder`` inheriting ``base`` (default:
    the tiny synthetic config)."""
    base = base or write_tiny_config(folder)
    path = osp.join(folder, name)
    with open(path, 'w') as handle:
        handle.write(f'_base_ = [{base!r}]\n{body}\n')
    return path
