"""``tools/slurm_train.sh`` / ``slurm_test.sh`` and ``--launcher slurm``,
run through a stand-in ``srun`` that records its options and starts the
tasks as local processes with the variables Slurm sets (SLURM_PROCID,
SLURM_NTASKS, SLURM_LOCALID, SLURM_NODELIST; ``scontrol`` names the
first node), two "nodes" of one task each, gloo on loopback."""
import json
import os
import os.path as osp
import stat
import sys

import pytest
import torch

from tests.conftest import REPO_ROOT
from tests.test_tools.test_multinode import assert_same_metrics
from tests.test_tools.test_train_test import free_port
from tests.tool_runner import (read_metrics, run_tool, temp_dir_env,
                               write_tiny_config)

pytestmark = pytest.mark.slow

SRUN = '''\
#!{python}
"""Stand-in srun: records its options in $SRUN_RECORD, then runs the
command as --ntasks local processes, --ntasks-per-node per "node"."""
import json, os, subprocess, sys

args, options = sys.argv[1:], {{}}
while args[0].startswith('-'):
    key, equals, value = args[0].partition('=')
    if equals:
        args = args[1:]
    else:
        value, args = args[1], args[2:]
    options[key] = value
with open(os.environ['SRUN_RECORD'], 'w') as handle:
    json.dump(options, handle)
tasks, per_node = int(options['--ntasks']), int(options['--ntasks-per-node'])
processes = [subprocess.Popen(args, env=dict(
    os.environ, SLURM_PROCID=str(rank), SLURM_NTASKS=str(tasks),
    SLURM_LOCALID=str(rank % per_node), SLURM_NODEID=str(rank // per_node),
    SLURM_NODELIST='localhost', SLURM_JOB_NAME=options['--job-name']))
    for rank in range(tasks)]
sys.exit(max(process.wait() for process in processes))
'''
# `scontrol show hostname LIST` prints one name per line
SCONTROL = '#!/bin/sh\necho "$3"\n'


def write_executable(path, text):
    with open(path, 'w') as handle:
        handle.write(text)
    os.chmod(path, os.stat(path).st_mode | stat.S_IXUSR)


@pytest.fixture(scope='module')
def slurm(tmp_path_factory):
    """A folder with the tiny config and the environment of a job whose
    ``srun`` and ``scontrol`` are the stand-ins."""
    folder = str(tmp_path_factory.mktemp('slurm'))
    bin_dir = osp.join(folder, 'bin')
    os.makedirs(bin_dir)
    write_executable(osp.join(bin_dir, 'srun'),
                     SRUN.format(python=sys.executable))
    write_executable(osp.join(bin_dir, 'scontrol'), SCONTROL)
    path = os.pathsep.join([bin_dir, osp.dirname(sys.executable),
                            os.environ['PATH']])
    env = dict(PATH=path, GPUS='2', GPUS_PER_NODE='1', CPUS_PER_TASK='1',
               SRUN_ARGS='--quotatype=auto --time=10',
               SRUN_RECORD=osp.join(folder, 'srun.json'),
               **temp_dir_env(folder))
    return dict(folder=folder, env=env,
                config=write_tiny_config(folder, max_iters=3, interval=3))


def run_slurm(slurm, args):
    """``bash tools/<args>`` in the job; srun's options as it got them."""
    env = dict(slurm['env'], MASTER_PORT=str(free_port()))
    result = run_tool(['bash'] + args, cwd=REPO_ROOT, env=env)
    with open(env['SRUN_RECORD']) as handle:
        return result, json.load(handle)


def test_slurm_train_and_test(slurm):
    folder, config = slurm['folder'], slurm['config']
    work = osp.join(folder, 'work')
    _, options = run_slurm(slurm, ['tools/slurm_train.sh', 'gpu', 'irstd',
                                   config, '--work-dir', work])
    assert options == {
        '-p': 'gpu', '--job-name': 'irstd', '--gres': 'gpu:1',
        '--ntasks': '2', '--ntasks-per-node': '1', '--cpus-per-task': '1',
        '--kill-on-bad-exit': '1', '--quotatype': 'auto', '--time': '10'}
    checkpoint = osp.join(work, 'iter_3.pth')
    state = torch.load(checkpoint, weights_only=False)
    assert state['meta']['iter'] == 3

    one, two = osp.join(folder, 'one.json'), osp.join(folder, 'two.json')
    run_tool(['python', 'tools/test.py', config, checkpoint, '--work-dir',
              osp.join(folder, 'test_one'), '--out', one], cwd=REPO_ROOT)
    result, options = run_slurm(
        slurm, ['tools/slurm_test.sh', 'gpu', 'irstd-test', config,
                checkpoint, '--work-dir', osp.join(folder, 'test_two'),
                '--out', two])
    assert options['--job-name'] == 'irstd-test'
    # the 5 test images split between the two tasks: 3 batches each
    assert 'Iter(test) [3/3]' in result.stdout + result.stderr
    assert_same_metrics(read_metrics(two), read_metrics(one))

