"""SIGKILL at random moments around checkpoint saves never loses the last
checkpoint, and ``--resume`` always continues from a complete one."""
import glob
import multiprocessing
import os
import os.path as osp
import random
import re
import time

import pytest
import torch
from mmengine.logging import MMLogger

from serankdet.engine import ResumeError, find_resume_checkpoint
from serankdet.utils import load_checkpoint_file
from tests.tool_runner import run_tool_cli, tool_main, write_config

TRIALS = 20
MAX_ITERS = 400  # never reached: every run is killed


def _kill_config(folder):
    """The tiny config, saving every iteration with ``max_keep_ckpts=1``
    and validating every other iteration with a best checkpoint (also
    rotated). The infinite sampler avoids mmengine's pause at the end of
    each (here tiny) epoch."""
    return write_config(folder, 'kill.py', f"""
train_dataloader = dict(sampler=dict(type='InfiniteSampler', shuffle=True))
train_cfg = dict(max_iters={MAX_ITERS}, val_interval=2)
default_hooks = dict(checkpoint=dict(
    type='CheckpointHook', interval=1, max_keep_ckpts=1,
    save_best='irstd/IoU', rule='greater'))
""")


def _train_child(config, work_dir, resume, *extra):
    torch.set_num_threads(1)
    argv = [config, '--work-dir', work_dir] + (['--resume'] if resume else [])
    os._exit(run_tool_cli('train', *argv, *extra))


def _saved_iteration(path):
    return load_checkpoint_file(path)['meta']['iter']


def _wait_for_new_save(work_dir, after_iter, child, timeout=120):
    """Block until ``last_checkpoint`` names a save past ``after_iter``."""
    pointer = osp.join(work_dir, 'last_checkpoint')
    deadline = time.time() + timeout
    while time.time() < deadline:
        assert child.is_alive(), f'training exited with {child.exitcode}'
        if osp.exists(pointer):
            with open(pointer) as handle:
                named = re.search(r'iter_(\d+)\.pth$', handle.read())
            if named and int(named.group(1)) > after_iter:
                return
        time.sleep(0.005)
    raise AssertionError('no checkpoint saved in time')


def _wait_for_partial_file(work_dir, timeout=10):
    """Block until a save is being written; False if none was seen."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if glob.glob(osp.join(work_dir, '*.partial')):
            return True
        time.sleep(0.0005)
    return False


def _check_after_kill(work_dir, resumed_iter):
    """A complete checkpoint at least as new as the one resumed exists,
    and every name a later run may read points to a complete file."""
    path = find_resume_checkpoint(work_dir)
    assert path is not None, os.listdir(work_dir)
    iteration = _saved_iteration(path)
    assert iteration >= resumed_iter
    pointer = osp.join(work_dir, 'last_checkpoint')
    if osp.exists(pointer):
        with open(pointer) as handle:
            named = handle.read().strip()
        assert _saved_iteration(named) >= resumed_iter
    for best in glob.glob(osp.join(work_dir, 'best_*.pth')):
        load_checkpoint_file(best)
    return iteration


@pytest.mark.skipif(not hasattr(os, 'fork'), reason='needs fork')
@pytest.mark.slow
def test_sigkill_around_saves_keeps_a_resumable_checkpoint(tmp_path):
    config = _kill_config(str(tmp_path))
    work = str(tmp_path / 'work')
    context = multiprocessing.get_context('fork')
    rng = random.Random(0)
    resumed_iter, mid_write = 0, 0
    for trial in range(TRIALS):
        child = context.Process(target=_train_child,
                                args=(config, work, trial > 0))
        child.start()
        _wait_for_new_save(work, resumed_iter, child)
        if trial % 2:
            # half the kills land while a checkpoint file is being written
            mid_write += _wait_for_partial_file(work)
            time.sleep(rng.uniform(0, 0.01))
        else:  # the others anywhere in the next two iterations
            time.sleep(rng.uniform(0, 0.3))
        child.kill()
        child.join()
        resumed_iter = _check_after_kill(work, resumed_iter)
    assert mid_write >= TRIALS // 4
    assert resumed_iter >= TRIALS  # every resumed run made progress
    # a last run that is not killed ends with one checkpoint and one best:
    # what the killed saves left behind is removed
    last_iter = resumed_iter + 4
    child = context.Process(target=_train_child, args=(
        config, work, True, '--cfg-options', f'train_cfg.max_iters={last_iter}'))
    child.start()
    child.join()
    assert child.exitcode == 0
    assert glob.glob(osp.join(work, 'iter_*.pth')) == [
        osp.join(work, f'iter_{last_iter}.pth')]
    assert len(glob.glob(osp.join(work, 'best_*.pth'))) == 1
    assert not glob.glob(osp.join(work, '*.partial'))


def test_resume_refuses_to_start_over_leftovers(tiny_config, tmp_path,
                                                capsys):
    work = tmp_path / 'work'
    work.mkdir()
    (work / 'iter_6.pth.partial').write_bytes(b'cut short')
    (work / 'best_irstd_IoU_iter_3.pth').write_bytes(b'')
    with open(work / 'last_checkpoint', 'w') as handle:
        handle.write(str(work / 'iter_6.pth'))
    with pytest.raises(ResumeError, match='nothing to resume'):
        find_resume_checkpoint(str(work))
    assert run_tool_cli('train', tiny_config, '--work-dir', str(work),
                        '--resume') == 2
    err = capsys.readouterr().err
    assert err.startswith(
        f'error: nothing to resume in {work}: it holds {work}/'
        'best_irstd_IoU_iter_3.pth, '), err
    assert 'iter_6.pth.partial' in err and 'nothing was deleted' in err
    assert sorted(os.listdir(work)) == [
        'best_irstd_IoU_iter_3.pth', 'iter_6.pth.partial', 'last_checkpoint']


def test_resume_of_an_empty_work_dir_starts_a_new_run(tiny_config, tmp_path,
                                                      capfd):
    work = str(tmp_path / 'work')
    # the notice comes before the run's logger exists, through mmengine's
    # current logger: in a fresh process a new one on stdout, here the last
    # run's of this process unless a logger of this test is made current
    MMLogger.get_instance(f'resume_notice_{tmp_path.name}')
    assert run_tool_cli('train', tiny_config, '--work-dir', work, '--resume',
                        '--cfg-options', 'train_cfg.max_iters=3') == 0
    output = ''.join(capfd.readouterr())
    assert f'no checkpoint to resume from in {work}: starting a new run' in \
        output
    assert _saved_iteration(osp.join(work, 'iter_3.pth')) == 3


def test_resume_of_a_missing_file(tiny_config, tmp_path, capsys):
    missing = str(tmp_path / 'nope.pth')
    assert run_tool_cli('train', tiny_config, '--resume', missing) == 2
    assert capsys.readouterr().err.startswith(
        f'error: --resume {missing}: no such checkpoint file')


def test_runner_resume_flag_uses_the_same_rules(tiny_config, tmp_path):
    """``resume = True`` in a config (no path) behaves like ``--resume``."""
    work = tmp_path / 'work'
    work.mkdir()
    (work / 'iter_2.pth.partial').write_bytes(b'cut short')
    main = tool_main('train')
    with pytest.raises(ResumeError, match='iter_2.pth.partial'):
        main([tiny_config, '--work-dir', str(work), '--cfg-options',
              'resume=True', 'experiment_name=flag', 'visualizer.name=flag'])
