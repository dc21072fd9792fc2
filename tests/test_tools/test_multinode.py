"""Two "nodes" on one machine (loopback, gloo, one process each) through
``tools/dist_train.sh`` / ``tools/dist_test.sh`` and the variables the
README documents (NNODES, NODE_RANK, MASTER_ADDR, PORT): the same weights
as two processes on one node, the same test metrics as one process."""
import glob
import os
import os.path as osp
import subprocess
import tempfile

import pytest
import torch

from tests.conftest import REPO_ROOT
from tests.test_tools.test_train_test import free_port
from tests.tool_runner import (read_metrics, run_tool, temp_dir_env,
                               write_tiny_config)

pytestmark = pytest.mark.slow

ITERS = 3


def run_nodes(script, args, nodes, folder, timeout=300):
    """``bash tools/<script> ARGS`` once per node, all at once (as in one
    shell per machine), with one process per node and temporary files in
    ``folder`` (:func:`temp_dir_env`); fails with the output of a node
    that failed."""
    port = str(free_port())
    # outputs to files: a node blocked on a full pipe would stall the other
    logs = [tempfile.TemporaryFile('w+') for _ in range(nodes)]
    starts = [
        subprocess.Popen(
            ['bash', osp.join('tools', script)] + args, cwd=REPO_ROOT,
            stdout=log, stderr=subprocess.STDOUT,
            env=dict(os.environ, PYTHONPATH=REPO_ROOT, OMP_NUM_THREADS='1',
                     MKL_NUM_THREADS='1', NNODES=str(nodes),
                     NODE_RANK=str(rank), MASTER_ADDR='127.0.0.1',
                     PORT=port, **temp_dir_env(folder)))
        for rank, log in enumerate(logs)]
    outputs = []
    for rank, (start, log) in enumerate(zip(starts, logs)):
        start.wait(timeout=timeout)
        log.seek(0)
        outputs.append(log.read())
        log.close()
        assert start.returncode == 0, f'node {rank}:\n{outputs[-1][-4000:]}'
    return outputs


def assert_same_metrics(actual: dict, expected: dict) -> None:
    """Equal metrics up to float rounding, nested ones (curves) included."""
    assert actual.keys() == expected.keys()
    for key, value in expected.items():
        if isinstance(value, dict):
            assert_same_metrics(actual[key], value)
        else:
            assert actual[key] == pytest.approx(value), key


def weights(work_dir):
    return torch.load(osp.join(work_dir, f'iter_{ITERS}.pth'),
                      weights_only=False)['state_dict']


@pytest.fixture(scope='module')
def single_node(tmp_path_factory):
    """Two processes on one node, then their checkpoint."""
    folder = str(tmp_path_factory.mktemp('multinode'))
    config = write_tiny_config(folder, max_iters=ITERS, interval=ITERS)
    work = osp.join(folder, 'one_node')
    run_tool(['bash', 'tools/dist_train.sh', config, '2', '--work-dir', work,
              '--auto-scale-lr'], cwd=REPO_ROOT,
             env=dict(PORT=str(free_port()), **temp_dir_env(folder)))
    return dict(folder=folder, config=config, work=work)


def test_two_nodes_train_the_weights_of_one_node(single_node):
    work = osp.join(single_node['folder'], 'two_nodes')
    node0, _ = run_nodes('dist_train.sh', [single_node['config'], '1',
                                           '--work-dir', work,
                                           '--auto-scale-lr'], 2,
                         single_node['folder'])
    assert f'Iter(train) [{ITERS}/{ITERS}]' in node0
    # one torchrun folder a launch (the single node's, then one a node),
    # in the test's temporary folder
    assert len(glob.glob(osp.join(single_node['folder'], 'tmp',
                                  'torchelastic_*'))) == 3
    # one process of batch 4 per node: the total batch of the recipe
    assert ('LR is set based on batch size of 8 and the current batch size '
            'is 8.') in node0
    reference, trained = weights(single_node['work']), weights(work)
    assert reference.keys() == trained.keys()
    for key, value in reference.items():
        assert torch.equal(trained[key], value), key


def test_two_nodes_test_as_one_process(single_node):
    folder, config = single_node['folder'], single_node['config']
    checkpoint = osp.join(single_node['work'], f'iter_{ITERS}.pth')
    one, two = osp.join(folder, 'one.json'), osp.join(folder, 'two.json')
    run_tool(['python', 'tools/test.py', config, checkpoint, '--work-dir',
              osp.join(folder, 'test_one'), '--out', one], cwd=REPO_ROOT)
    run_nodes('dist_test.sh', [config, checkpoint, '1', '--work-dir',
                               osp.join(folder, 'test_two'), '--out', two], 2,
              folder)
    single, double = read_metrics(one), read_metrics(two)
    assert single['irstd/num_targets'] == double['irstd/num_targets'] > 0
    assert_same_metrics(double, single)
