"""AtomicCheckpointHook's best-checkpoint rules outside the kill tests."""
import glob
import os.path as osp

from tests.tool_runner import run_tool_cli, write_config


def test_validation_without_a_best_checkpoint(tmp_path):
    """``save_best=None`` with validation during training (as
    benchmarks/short_schedule.py probes learning curves): the validations
    run, no best checkpoint is written, and the run ends normally."""
    config = write_config(str(tmp_path), 'no_best.py', """
train_cfg = dict(max_iters=4, val_interval=2)
default_hooks = dict(checkpoint=dict(interval=2, save_best=None))
""")
    work = str(tmp_path / 'work')
    assert run_tool_cli('train', config, '--work-dir', work) == 0
    assert not glob.glob(osp.join(work, 'best_*.pth'))
    assert sorted(osp.basename(path) for path in
                  glob.glob(osp.join(work, 'iter_*.pth'))) == [
        'iter_2.pth', 'iter_4.pth']
    logs = glob.glob(osp.join(work, '*', '*.log'))
    with open(logs[0]) as handle:
        assert handle.read().count('irstd/IoU: ') == 2  # two validations
