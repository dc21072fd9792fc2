"""Training never loses results: atomic checkpoints, earlier runs kept,
a diverged loss stops the run before anything bad is saved."""
import glob
import math
import os
import os.path as osp

import pytest
import torch
from mmengine.fileio.backends import LocalBackend
from torch import nn

from serankdet.engine import find_resume_checkpoint
from serankdet.registry import MODELS
from serankdet.utils import load_checkpoint_file
from tests.tool_runner import run_tool_cli, tool_main, write_config


def _last_checkpoint(work_dir):
    with open(osp.join(work_dir, 'last_checkpoint')) as handle:
        return handle.read().strip()


@pytest.mark.slow
def test_crash_while_saving_keeps_previous_checkpoint(tiny_config, tmp_path,
                                                      monkeypatch):
    """The second save (iteration 6) dies half-way through writing."""
    put = LocalBackend.put
    saved = []

    def crashing_put(self, obj, filepath):
        if '.pth' in str(filepath):
            saved.append(filepath)
            if len(saved) == 2:
                with open(filepath, 'wb') as handle:
                    handle.write(obj[:len(obj) // 2])
                raise OSError('No space left on device (simulated)')
        return put(self, obj, filepath)

    monkeypatch.setattr(LocalBackend, 'put', crashing_put)
    work = str(tmp_path / 'work')
    with pytest.raises(OSError, match='simulated'):
        tool_main('train')([tiny_config, '--work-dir', work, '--cfg-options',
                            'experiment_name=crash', 'visualizer.name=crash'])
    first = osp.join(work, 'iter_3.pth')
    assert _last_checkpoint(work) == first
    assert load_checkpoint_file(first)['meta']['iter'] == 3
    # the torn file never carries a checkpoint name, so --resume skips it
    assert not osp.exists(osp.join(work, 'iter_6.pth'))
    assert find_resume_checkpoint(work) == first


@pytest.mark.slow
def test_existing_work_dir_is_never_overwritten(tiny_config, tmp_path,
                                                capfd):
    work = str(tmp_path / 'work')
    args = ['--work-dir', work, '--cfg-options', 'train_cfg.max_iters=2',
            'default_hooks.checkpoint.interval=2', 'train_cfg.val_interval=2']
    assert run_tool_cli('train', tiny_config, *args) == 0
    first = osp.join(work, 'iter_2.pth')
    stamp = os.stat(first).st_mtime_ns
    capfd.readouterr()

    assert run_tool_cli('train', tiny_config, *args) == 0
    runs = glob.glob(osp.join(work, 'run_*'))
    assert len(runs) == 1 and osp.isfile(osp.join(runs[0], 'iter_2.pth'))
    assert os.stat(first).st_mtime_ns == stamp
    assert _last_checkpoint(work) == first
    out = capfd.readouterr().out
    assert (f'{work} already holds checkpoints of an earlier run; this run '
            f'writes to {runs[0]} (use --resume to continue the earlier '
            'run)') in out

    # --resume without a path continues the newest run, in its folder
    args[3] = 'train_cfg.max_iters=3'
    assert run_tool_cli('train', tiny_config, *args, '--resume') == 0
    assert f'resuming from {runs[0]}/iter_2.pth' in capfd.readouterr().out
    assert osp.isfile(osp.join(runs[0], 'iter_3.pth'))
    assert not glob.glob(osp.join(work, 'iter_3.pth'))
    assert len(glob.glob(osp.join(work, 'run_*'))) == 1


def test_find_resume_checkpoint_without_pointer(tmp_path):
    """A ``last_checkpoint`` lost or torn by a kill: newest checkpoint."""
    for name in ('iter_2.pth', 'iter_4.pth'):
        (tmp_path / name).write_bytes(b'x')
    os.utime(tmp_path / 'iter_2.pth', (1, 1))
    (tmp_path / 'last_checkpoint').write_text('')
    assert find_resume_checkpoint(str(tmp_path)) == str(tmp_path /
                                                        'iter_4.pth')
    assert find_resume_checkpoint(str(tmp_path / 'none')) is None


@MODELS.register_module(force=True)
class NaNAfterLoss(nn.Module):
    """Zero for ``calls`` calls, then NaN (a diverging loss)."""

    loss_name = 'loss_nan'

    def __init__(self, calls):
        super().__init__()
        self.calls = calls

    def forward(self, logits, target):
        self.calls -= 1
        return logits.sum() * (0.0 if self.calls >= 0 else math.nan)


@pytest.mark.slow
def test_nan_loss_stops_and_keeps_last_good_checkpoint(tmp_path, capsys):
    # 3 outputs (deep supervision): 3 calls per iteration, NaN at iteration 4
    config = write_config(str(tmp_path), 'nan.py', '''
model = dict(decode_head=dict(loss_decode=[
    dict(type='SoftIoULoss'), dict(type='NaNAfterLoss', calls=9)]))''')
    work = str(tmp_path / 'work')
    assert run_tool_cli('train', config, '--work-dir', work) == 2
    err = capsys.readouterr().err.splitlines()[0]
    good = osp.join(work, 'iter_3.pth')
    assert err.startswith('error: the training loss is nan at iteration 4 '
                          '(epoch 1) (')
    assert 'loss_nan=nan' in err
    assert err.endswith(
        f'training stopped and the last good checkpoint is {good}. Lower the '
        'learning rate (optim_wrapper.optimizer.lr), add gradient clipping '
        '(optim_wrapper.clip_grad=dict(max_norm=...)) or check the data.')
    assert not glob.glob(osp.join(work, 'iter_[4-9].pth'))
    assert _last_checkpoint(work) == good
    weights = load_checkpoint_file(good)['state_dict']
    assert all(torch.isfinite(v).all() for v in weights.values())
