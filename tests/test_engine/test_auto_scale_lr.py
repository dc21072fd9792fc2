"""``tools/train.py --auto-scale-lr``: the learning rate scaled by the
run's total batch over the config's ``auto_scale_lr.base_batch_size``,
the scaled rate in the log; a config without a base batch is refused."""
import glob
import re

from tests.tool_runner import run_tool_cli, write_config


def test_auto_scale_lr_scales_and_logs_the_rate(tmp_path):
    # the tiny config: batch 4 of the demo recipe (3e-3 for a batch of 8)
    config = write_config(str(tmp_path), 'scaled.py',
                          'train_cfg = dict(max_iters=2, val_interval=2)')
    work = tmp_path / 'work'
    assert run_tool_cli('train', config, '--work-dir', str(work),
                        '--auto-scale-lr') == 0
    log, = glob.glob(str(work / '2*' / '2*.log'))
    with open(log) as handle:
        text = handle.read()
    assert 'auto_scale_lr: learning rate 0.003 -> 0.0015\n' in text
    assert re.findall(r'Iter\(train\) \[\d/2\]  lr: (\S+)', text) == [
        '1.5000e-03', '1.5000e-03']


def test_auto_scale_lr_needs_a_base_batch(tmp_path, capsys):
    config = write_config(str(tmp_path), 'unscaled.py',
                          'auto_scale_lr = None')
    assert run_tool_cli('train', config, '--work-dir',
                        str(tmp_path / 'work'), '--auto-scale-lr') == 2
    assert capsys.readouterr().err.splitlines()[0] == (
        'error: --auto-scale-lr: the config has no '
        'auto_scale_lr.base_batch_size (the total batch its learning rate '
        'is set for); add auto_scale_lr = dict(enable=False, '
        'base_batch_size=N) to it')
