"""Seconds per training epoch and the loss of every epoch: our
``tools/train.py`` against BasicIRSTD's own ``train.py``, same model, data,
batch, threads, seed and machine, in one run.

    python benchmarks/epoch_time.py --reference-root ../refs/BasicIRSTD \\
        [--models acm alcnet] [--epochs 4] [--seeds 0] [--threads 1] \\
        [--data-root datasets/SIRST-5050] [--out FILE]

Both sides train ``--epochs`` epochs of their NUAA-SIRST recipe (batch 16,
256 crops, Adam 5e-4, soft-IoU) on DNANet's 50/50 split (213 training
frames): BasicIRSTD's from a folder in its layout made of links to
``--data-root`` (``images/``, ``masks/``, ``img_idx/``), run on the CPU (its
``.cuda()`` calls made no-ops in its process; none of its code is copied;
it imports torchvision: give a torchvision wheel's folder in
``--reference-pythonpath``, e.g. ``pip install --no-deps --target DIR
torchvision==0.28.0``),
with its default data-loader workers (1); ours with the config's (4). Each
epoch is timed from one start of the training data loader to the next (the
test loader's start after the last epoch closes it), so start-up, the
final checkpoint and testing are not counted (where no loader follows the
last epoch, the process's end closes it); the first epoch (warm-up) is
left out of the median. The loss of an epoch is the mean of its batches'
losses on both sides (BasicIRSTD's ``--intervals 1`` line; our log of
every iteration), so the onset of learning can be compared seed by seed
(``--seeds``: each side seeded with the same number; the two sides' random
streams differ). Writes ``benchmarks/results/epoch_time.json`` or
``--out``.
"""
import argparse
import atexit
import glob
import json
import os
import re
import os.path as osp
import platform
import runpy
import statistics
import subprocess
import sys
import tempfile
import time
import types

REPO_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
RESULT = osp.join(REPO_ROOT, 'benchmarks', 'results', 'epoch_time.json')
#: model -> (our config, BasicIRSTD's model name)
MODELS = {
    'acm': ('configs/acm/acm_1xb16-400e_sirst-5050-256x256.py', 'ACM'),
    'alcnet': ('configs/alcnet/alcnet_1xb16-400e_sirst-5050-256x256.py',
               'ALCNet'),
}


def child(out: str, on_cpu: bool, script: str, argv: list) -> None:
    """Run ``script`` with ``argv`` in this process, recording when each
    data loader starts an epoch (and, with ``on_cpu``, making CUDA
    transfers no-ops) into ``out``."""
    import torch
    starts = []
    iterate = torch.utils.data.DataLoader.__iter__

    def timed_iter(loader):
        starts.append((type(loader.dataset).__name__, time.perf_counter()))
        return iterate(loader)

    torch.utils.data.DataLoader.__iter__ = timed_iter
    if on_cpu:
        torch.Tensor.cuda = lambda self, *args, **kwargs: self
        torch.nn.Module.cuda = lambda self, *args, **kwargs: self
        # BasicIRSTD's net.py imports torchvision (a CUDA wheel here) and
        # a test image of scikit-image's (not in its wheels); neither is
        # used by ACM or ALCNet
        sys.path.insert(0, osp.join(REPO_ROOT, 'benchmarks', 'golden'))
        from basicirstd_golden import import_torchvision
        import_torchvision()
        for name in ('skimage.feature.tests',
                     'skimage.feature.tests.test_orb'):
            sys.modules.setdefault(name, types.ModuleType(name))
        sys.modules['skimage.feature.tests.test_orb'].img = None

    def dump():
        # the process's end closes a last epoch no loader start follows
        starts.append(('exit', time.perf_counter()))
        with open(out, 'w') as handle:
            json.dump(starts, handle)

    atexit.register(dump)
    sys.argv = [script] + argv
    sys.path.insert(0, osp.dirname(script))
    runpy.run_path(script, run_name='__main__')


def epoch_seconds(starts: list) -> list:
    """Durations between consecutive starts, from a training loader's
    start to the next start of any loader."""
    return [round(nxt[1] - cur[1], 3)
            for cur, nxt in zip(starts, starts[1:])
            if cur[0] == starts[0][0]]


def link_reference_layout(data_root: str, folder: str) -> str:
    """BasicIRSTD's ``<dir>/NUAA-SIRST/{images,masks,img_idx}`` from our
    ``{trainval,test}/{images,masks}`` layout, by symbolic links."""
    dataset = osp.join(folder, 'NUAA-SIRST')
    for sub in ('images', 'masks', 'img_idx'):
        os.makedirs(osp.join(dataset, sub), exist_ok=True)
    for split, name in (('trainval', 'train'), ('test', 'test')):
        stems = []
        for file in sorted(os.listdir(osp.join(data_root, split, 'images'))):
            stems.append(osp.splitext(file)[0])
            for sub in ('images', 'masks'):
                os.symlink(osp.abspath(osp.join(data_root, split, sub, file)),
                           osp.join(dataset, sub, file))
        with open(osp.join(dataset, 'img_idx', f'{name}_NUAA-SIRST.txt'),
                  'w') as handle:
            handle.write('\n'.join(stems))
    return folder


#: BasicIRSTD's loss line with ``--intervals 1``: the mean of the epoch
REFERENCE_LOSS = re.compile(r'Epoch---(\d+), total_loss---([0-9.]+)')


def our_epoch_losses(work_dir: str) -> list:
    """The mean training loss of each epoch of our run in ``work_dir``
    (logged at every iteration with a window of one)."""
    losses = {}
    for path in glob.glob(osp.join(work_dir, '*', 'vis_data',
                                   'scalars.json')):
        with open(path) as handle:
            for line in handle:
                row = json.loads(line)
                if 'loss' in row:
                    losses.setdefault(row['epoch'], []).append(row['loss'])
    return [round(statistics.mean(losses[epoch]), 6)
            for epoch in sorted(losses)]


def run_side(args, command: list, cwd: str, out: str):
    """Epoch durations of ``command`` ('--cpu' or '--native', a script
    and its arguments) run in a child process in ``cwd``, and the child's
    standard output."""
    path = [REPO_ROOT] + ([args.reference_pythonpath] if command[0] == '--cpu'
                          and args.reference_pythonpath else [])
    env = dict(os.environ, OMP_NUM_THREADS=str(args.threads),
               MKL_NUM_THREADS=str(args.threads),
               PYTHONPATH=os.pathsep.join(path))
    result = subprocess.run(
        [sys.executable, osp.abspath(__file__), '--child', out] + command,
        env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True)
    with open(out) as handle:
        seconds = epoch_seconds(json.load(handle))
    # BasicIRSTD's test after the last epoch fails on numpy 2 (its PD_FA
    # converts an array with float()); the epochs are timed by then
    if len(seconds) < args.epochs:
        raise RuntimeError(f'{command[1]} ended after {len(seconds)} of '
                           f'{args.epochs} epochs:\n{result.stderr[-3000:]}')
    return seconds, result.stdout


def measure(model: str, seed: int, args, scratch: str) -> dict:
    config, reference_name = MODELS[model]
    data_root = osp.abspath(args.data_root)
    run = f'{model}_seed{seed}'
    work_dir = osp.join(scratch, f'ours_{run}')
    ours, _ = run_side(args, [
        '--native', osp.join(REPO_ROOT, 'tools', 'train.py'),
        osp.join(REPO_ROOT, config), '--work-dir', work_dir,
        '--cfg-options', f'train_cfg.max_epochs={args.epochs}',
        f'train_cfg.val_begin={args.epochs + 1}', f'randomness.seed={seed}',
        'default_hooks.logger.interval=1', 'log_processor.window_size=1'] + [
            f'{loader}.dataset.data_root={data_root}'
            for loader in ('train_dataloader', 'val_dataloader',
                           'test_dataloader')],
        REPO_ROOT, osp.join(scratch, f'ours_{run}.json'))
    datasets = link_reference_layout(args.data_root,
                                     osp.join(scratch, f'ref_{run}'))
    theirs, printed = run_side(args, [
        '--cpu', osp.join(osp.abspath(args.reference_root), 'train.py'),
        '--model_names', reference_name, '--dataset_names', 'NUAA-SIRST',
        '--dataset_dir', datasets, '--nEpochs', str(args.epochs),
        '--intervals', '1', '--seed', str(seed),
        '--save', osp.join(scratch, f'ref_log_{run}')],
        datasets, osp.join(scratch, f'basicirstd_{run}.json'))
    row = dict(model=model, config=config, seed=seed,
               ours_epoch_seconds=ours, basicirstd_epoch_seconds=theirs,
               ours_epoch_losses=our_epoch_losses(work_dir),
               basicirstd_epoch_losses=[
                   float(loss)
                   for _, loss in REFERENCE_LOSS.findall(printed)])
    row['ours_median'] = statistics.median(ours[1:])
    row['basicirstd_median'] = statistics.median(theirs[1:])
    row['ratio'] = round(row['basicirstd_median'] / row['ours_median'], 3)
    return row


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--reference-root', required=True,
                        help='a checkout of XinyiYing/BasicIRSTD')
    parser.add_argument('--reference-pythonpath',
                        help='folder holding torchvision for the reference')
    parser.add_argument('--models', nargs='+', default=list(MODELS),
                        choices=list(MODELS))
    parser.add_argument('--epochs', type=int, default=4)
    parser.add_argument('--seeds', type=int, nargs='+', default=[0])
    parser.add_argument('--threads', type=int, default=1)
    parser.add_argument('--data-root',
                        default=osp.join(REPO_ROOT, 'datasets', 'SIRST-5050'))
    parser.add_argument('--out', default=RESULT)
    return parser.parse_args(argv)


def main(argv=None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ['--child']:
        out, rest = argv[1], argv[2:]
        on_cpu = rest[0] == '--cpu'
        child(out, on_cpu, rest[1], rest[2:])
        return
    args = parse_args(argv)
    if args.epochs < 3:
        raise SystemExit('error: --epochs must be >= 3 (the first epoch is '
                         'warm-up)')
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        for model in args.models:
            for seed in args.seeds:
                rows.append(measure(model, seed, args, scratch))
                row = rows[-1]
                print(f'{model} seed {seed}: ours {row["ours_median"]:.1f} '
                      f's/epoch, BasicIRSTD {row["basicirstd_median"]:.1f} '
                      f's/epoch (BasicIRSTD / ours = {row["ratio"]:.2f}); '
                      'mean loss of the epochs: ours '
                      f'{statistics.mean(row["ours_epoch_losses"]):.6f}, '
                      'BasicIRSTD '
                      f'{statistics.mean(row["basicirstd_epoch_losses"]):.6f}',
                      flush=True)
                write_result(args, argv, rows)


def write_result(args, argv: list, rows: list) -> None:
    """Rewrite ``args.out`` with the rows measured so far."""
    with open(args.out + '.partial', 'w') as handle:
        json.dump(dict(
            command='python benchmarks/epoch_time.py ' + ' '.join(argv),
            machine=f'{platform.machine()}, {os.cpu_count()} cores',
            threads=args.threads, epochs=args.epochs,
            date=time.strftime('%Y-%m-%d %H:%M'), rows=rows), handle,
            indent=1)
    os.replace(args.out + '.partial', args.out)
    print(f'written to {args.out}')


if __name__ == '__main__':
    main()
