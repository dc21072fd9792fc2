"""A training process killed with SIGKILL and resumed with --resume ends
exactly where an uninterrupted run with the same seed ends."""
import glob
import json
import os
import os.path as osp
import signal
import subprocess
import sys
import time

import pytest
import torch

from serankdet.utils import load_checkpoint_file
from tests.conftest import REPO_ROOT
from tests.tool_runner import write_tiny_config

EPOCHS = 5


def _final_val_metrics(work_dir):
    """The metrics of the last validation logged under ``work_dir``."""
    records = []
    for path in glob.glob(osp.join(work_dir, '**', 'scalars.json'),
                          recursive=True):
        with open(path) as handle:
            records += [json.loads(line) for line in handle
                        if 'irstd/IoU' in line]
    last = max(records, key=lambda record: record['step'])
    return {k: v for k, v in last.items() if k.startswith('irstd/')}


def _epoch_config(folder):
    """The tiny config, epoch-based: augmentation draws from numpy's global
    generator and a resumed run restarts at an epoch boundary without
    replaying data, so only the saved generator states make it exact."""
    path = osp.join(folder, 'tiny_epochs.py')
    with open(path, 'w') as handle:
        handle.write(
            f"_base_ = [{write_tiny_config(folder)!r}]\n"
            f"train_cfg = dict(_delete_=True, type='EpochBasedTrainLoop', "
            f"max_epochs={EPOCHS}, val_interval={EPOCHS})\n"
            "default_hooks = dict(checkpoint=dict(by_epoch=True, "
            "interval=1))\n"
            "train_dataloader = dict(sampler=dict(type='DefaultSampler'))\n")
    return path


def _train(config, work_dir, *extra):
    """Start tools/train.py in a new process."""
    args = [sys.executable, 'tools/train.py', config, '--work-dir', work_dir,
            *extra]
    env = dict(os.environ, PYTHONPATH=REPO_ROOT, OMP_NUM_THREADS='1')
    return subprocess.Popen(args, cwd=REPO_ROOT, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def _finish(process):
    output = process.communicate(timeout=300)[0]
    assert process.returncode == 0, output[-4000:]
    return output


@pytest.mark.slow
def test_killed_run_resumes_exactly(tmp_path):
    config = _epoch_config(str(tmp_path))
    # make the synthetic data once, before two processes race to write it
    from serankdet.datasets import ensure_synthetic_dataset
    ensure_synthetic_dataset(str(tmp_path / 'data'), num_train=12,
                             num_test=5, img_size=(64, 64), seed=1)
    full, killed = str(tmp_path / 'full'), str(tmp_path / 'killed')
    uninterrupted = _train(config, full)
    victim = _train(config, killed)
    try:
        deadline = time.time() + 240
        while not osp.exists(osp.join(killed, 'epoch_1.pth')):
            assert victim.poll() is None, victim.communicate()[0][-4000:]
            assert time.time() < deadline, 'no checkpoint appeared'
            time.sleep(0.02)
        victim.send_signal(signal.SIGKILL)
        victim.wait()
        assert not osp.exists(osp.join(killed, f'epoch_{EPOCHS}.pth'))
        _finish(uninterrupted)
    finally:  # no training left running when the test fails
        for process in (victim, uninterrupted):
            if process.poll() is None:
                process.kill()
                process.wait()

    log = _finish(_train(config, killed, '--resume'))
    assert 'resuming from' in log and 'resumed epoch' in log

    final = f'epoch_{EPOCHS}.pth'
    expected = load_checkpoint_file(osp.join(full, final))  # weights only
    resumed = load_checkpoint_file(osp.join(killed, final))
    assert len(resumed['rng_states']) == 1  # one process
    assert expected['state_dict'].keys() == resumed['state_dict'].keys()
    for key, value in expected['state_dict'].items():
        assert torch.equal(value, resumed['state_dict'][key]), key
    assert _final_val_metrics(killed) == _final_val_metrics(full)
