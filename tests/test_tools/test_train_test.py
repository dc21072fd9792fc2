"""End to end on CPU: train, save, resume, test, distributed train and test."""
import glob
import os
import os.path as osp
import socket

import pytest
import torch

from tests.tool_runner import (read_metrics, run_tool, temp_dir_env,
                               write_tiny_config)

TRAIN = 'tools/train.py'
TEST = 'tools/test.py'


# every test here shares one short training run (about a minute)
pytestmark = pytest.mark.slow


@pytest.fixture(scope='module')
def trained(tmp_path_factory):
    """A 6-iteration run with checkpoints at 3 and 6, then a resume to 9."""
    folder = str(tmp_path_factory.mktemp('e2e'))
    config = write_tiny_config(folder)
    work = osp.join(folder, 'work')
    from tests.conftest import REPO_ROOT
    run_tool(['python', TRAIN, config, '--work-dir', work], cwd=REPO_ROOT)
    return dict(folder=folder, config=config, work=work, root=REPO_ROOT)


@pytest.fixture(scope='module')
def tested(trained):
    """One float32 test run of iter_6.pth (with --out and --show-dir),
    shared by the tests that check its output and compare other test runs
    of the same checkpoint (2 processes, --amp) against its metrics."""
    folder = trained['folder']
    out = osp.join(folder, 'metrics.json')
    panels = osp.join(folder, 'panels')
    result = run_tool(
        ['python', TEST, trained['config'],
         osp.join(trained['work'], 'iter_6.pth'), '--work-dir',
         osp.join(folder, 'test_work'), '--out', out,
         '--show-dir', panels], cwd=trained['root'])
    return dict(result=result, out=out, panels=panels)


@pytest.mark.smoke
def test_train_writes_checkpoints(trained):
    work = trained['work']
    assert osp.isfile(osp.join(work, 'iter_6.pth'))
    with open(osp.join(work, 'last_checkpoint')) as handle:
        assert handle.read().strip().endswith('iter_6.pth')
    assert glob.glob(osp.join(work, 'best_irstd_IoU_iter_*.pth'))
    assert not glob.glob(osp.join(work, '*.partial'))  # atomic saving
    checkpoint = torch.load(osp.join(work, 'iter_6.pth'), weights_only=False)
    assert checkpoint['meta']['iter'] == 6
    # the thread policy the run chose (serankdet.utils.cpu_threads)
    run_log, = glob.glob(osp.join(work, '2*', '2*.log'))
    with open(run_log) as handle:
        assert ('CPU threads: 1 intra-op (OMP_NUM_THREADS), waiting '
                'passively (OMP_WAIT_POLICY=PASSIVE, set by the toolbox); '
                'set OMP_NUM_THREADS / OMP_WAIT_POLICY to choose'
                ) in handle.read()


def test_console_is_quiet_and_verbose_prints_all(trained):
    """The console gets progress and metrics; the config, hook table and
    environment report go to the run's log file only (--verbose prints
    them too)."""
    folder, root = trained['folder'], trained['root']
    logs = {}
    for name, flags in (('quiet', []), ('verbose', ['--verbose'])):
        work = osp.join(folder, f'console_{name}')
        result = run_tool(['python', TRAIN, trained['config'], '--work-dir',
                           work, '--cfg-options', 'train_cfg.max_iters=2',
                           'train_cfg.val_interval=2'] + flags, cwd=root)
        run_log, = glob.glob(osp.join(work, '2*', '2*.log'))
        with open(run_log) as handle:
            logs[name] = (result.stdout + result.stderr, handle.read())
    dumps = ('System environment:', 'Config:', 'Hooks will be executed',
             '"FileClient" will be deprecated')
    console, log_file = logs['quiet']
    assert not [d for d in dumps if d in console], console
    assert all(d in log_file for d in dumps[:3])
    assert 'Iter(train) [2/2]' in console and 'IoU' in console
    assert len(console.splitlines()) < 40, console
    console, _ = logs['verbose']
    assert all(d in console for d in dumps[:3])


def test_resume_continues_from_last_checkpoint(trained):
    result = run_tool(
        ['python', TRAIN, trained['config'], '--work-dir', trained['work'],
         '--resume', '--cfg-options', 'train_cfg.max_iters=9'],
        cwd=trained['root'])
    log = result.stdout + result.stderr
    assert 'resumed epoch: 0, iter: 6' in log
    assert 'Iter(train) [7/9]' in log
    assert osp.isfile(osp.join(trained['work'], 'iter_9.pth'))


@pytest.mark.smoke
def test_test_tool_prints_and_saves_metrics(tested):
    result, out, panels = tested['result'], tested['out'], tested['panels']
    metrics = read_metrics(out)
    for key in ('IoU', 'nIoU', 'Pd', 'Fa'):
        assert f'irstd/{key}' in metrics
        assert key in result.stdout + result.stderr
    assert 0.0 <= metrics['irstd/IoU'] <= 1.0 or 0 <= metrics['irstd/IoU'] <= 100
    assert len(glob.glob(osp.join(panels, '*.png'))) == 5


def test_test_tool_writes_beside_the_checkpoint(trained):
    """Without --work-dir, each test run gets its own folder under
    test_<checkpoint>/ next to the checkpoint; the training folder only
    gains that subfolder."""
    work = trained['work']
    before = set(os.listdir(work))
    checkpoint = osp.join(work, 'iter_6.pth')
    outputs = []
    for _ in range(2):
        result = run_tool(['python', TEST, trained['config'], checkpoint],
                          cwd=trained['root'])
        outputs.append(result.stdout.strip().splitlines()[-1])
    assert set(os.listdir(work)) - before == {'test_iter_6'}
    runs = sorted(glob.glob(osp.join(work, 'test_iter_6', '*',
                                     'test_metrics.json')))
    assert len(runs) == 2
    assert outputs == [f'metrics written to {path}' for path in runs]


def test_test_tool_rejects_missing_checkpoint(trained):
    import subprocess
    result = subprocess.run(
        ['python', TEST, trained['config'], 'no/such.pth'],
        cwd=trained['root'], capture_output=True, text=True)
    assert result.returncode != 0
    assert 'no/such.pth' in result.stderr and 'does not exist' in result.stderr


def free_port() -> int:
    """A TCP port no one listens on now (fixed ports collide with a
    rendezvous still closing from an earlier run)."""
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def test_two_process_ddp_train_and_test(trained, tested):
    """torchrun with 2 gloo processes trains; a 2-process test of an
    odd-sized set (5 images) gives the same metrics as one process."""
    folder, root = trained['folder'], trained['root']
    work = osp.join(folder, 'ddp')
    env = temp_dir_env(folder)
    run_tool(['torchrun', '--nproc_per_node=2', f'--master_port={free_port()}', TRAIN,
              trained['config'], '--work-dir', work, '--launcher', 'pytorch',
              '--cfg-options', 'train_cfg.max_iters=3', 'train_cfg.val_interval=3'],
             cwd=root, env=env)
    assert osp.isfile(osp.join(work, 'iter_3.pth'))
    # torchrun's leftover folder is in the test's temporary folder
    assert glob.glob(osp.join(env['TMPDIR'], 'torchelastic_*'))

    checkpoint = osp.join(trained['work'], 'iter_6.pth')
    single = tested['out']  # the one-process test of the same checkpoint
    double = osp.join(folder, 'double.json')
    # the old launcher passes --local-rank=N
    result = run_tool(['python', '-m', 'torch.distributed.launch',
                       '--nproc_per_node=2', f'--master_port={free_port()}',
                       TEST, trained['config'], checkpoint, '--work-dir',
                       osp.join(folder, 't2'), '--out', double, '--launcher',
                       'pytorch'], cwd=root, env=env)
    single_metrics, double_metrics = read_metrics(single), read_metrics(double)
    single_curves = single_metrics.pop('irstd/curves')
    double_curves = double_metrics.pop('irstd/curves')
    assert double_metrics == pytest.approx(single_metrics)
    assert double_curves.keys() == single_curves.keys()
    for name, values in single_curves.items():
        assert double_curves[name] == pytest.approx(values), name
    # rank 0 speaks for the run
    assert result.stdout.count('metrics written to') == 1, result.stdout


@pytest.mark.skipif(torch.cuda.is_available(), reason='checks the CPU path')
def test_amp_trains_and_tests_in_bfloat16_on_cpu(trained, tested):
    """--amp on a CPU: bfloat16 autocast, float32 weights, and test metrics
    of the same checkpoint close to the float32 ones."""
    folder, root = trained['folder'], trained['root']
    work = osp.join(folder, 'amp')
    run_tool(['python', TRAIN, trained['config'], '--work-dir', work,
              '--amp', '--cfg-options', 'train_cfg.max_iters=3',
              'train_cfg.val_interval=3'], cwd=root)
    run_log, = glob.glob(osp.join(work, '2*', '2*.log'))
    with open(run_log) as handle:  # the full config is in the run's log
        assert "type='AutocastOptimWrapper'" in handle.read()
    state = torch.load(osp.join(work, 'iter_3.pth'),
                       weights_only=False)['state_dict']
    assert all(v.dtype != torch.bfloat16 for v in state.values())

    checkpoint = osp.join(trained['work'], 'iter_6.pth')
    # fp32: the shared float32 test run of the same checkpoint
    outs = dict(fp32=tested['out'], amp=osp.join(folder, 'amp.json'))
    run_tool(['python', TEST, trained['config'], checkpoint, '--work-dir',
              osp.join(folder, 'test_amp'), '--out', outs['amp'], '--amp'],
             cwd=root)
    fp32, amp = read_metrics(outs['fp32']), read_metrics(outs['amp'])
    assert amp['irstd/num_targets'] == fp32['irstd/num_targets']
    assert amp['irstd/IoU'] == pytest.approx(fp32['irstd/IoU'], abs=0.05)
