"""Seed-averaged training parity on real data: the official code and ours.

``step_exact.py`` shows that one optimizer step of ours equals one of the
official code; this script checks the whole short training run on a real
data set, where data order, initialisation and evaluation also count. For
each model it trains several seeds with each side's own training code, on
the same data and budget, and scores every trained model on the same test
split with the same metric:

* ``official``: the authors' training loop, driven from this script with
  their own parts imported at run time from a checkout (nothing copied):
  their dataset class, ``DataLoader`` settings, network (seeded as their
  script seeds it), loss, optimizer and per-epoch scheduler (via
  ``reference_models.py``), their batch-skipping rule;
* ``ours``: ``tools/train.py CONFIG`` exactly as a user runs it, with the
  epoch count, seed and data root overridden on the command line.

Scoring: the final model predicts every test image at its native size; the
probabilities are scored by ``IRSTDMetric`` twice: ``threshold 0.5`` (the
toolbox's definitions, the same for both sides) and ``per-image max``, the
DATransNet test script's Pd/Fa rule (``evaluation/pd_fa.py`` divides each
probability map by its maximum before thresholding at 0.5, so every image
predicts something); its IoU rule is the plain 0.5 threshold.

Each run writes ``benchmarks/results/parity_runs/<model>/<side>_seed<S>.json``
as soon as it ends (runs already there are skipped, so an interrupted
sweep continues where it stopped); ``summary`` collects them into
``benchmarks/results/parity_<model>.json`` with mean and sample standard
deviation per side and prints the table.

Usage::

    python benchmarks/parity.py all --models datransnet --seeds 42 43 44 \\
        --reference-root datransnet=../DATransNet \\
        --data-root datransnet=../shared/datasets/NUDT-SIRST --jobs 2
    python benchmarks/parity.py summary --models datransnet

``--jobs 2`` trains an official and an our run side by side with one thread
each, so both see the same machine load.
"""
import argparse
import dataclasses
import json
import math
import os
import os.path as osp
import platform
import resource
import subprocess
import sys
import tempfile
import time
from typing import Dict, Iterable, List, Optional, Tuple

import numpy as np
import torch

HERE = osp.dirname(osp.abspath(__file__))
REPO_ROOT = osp.dirname(HERE)
RESULTS_DIR = osp.join(HERE, 'results')
RUNS_DIR = osp.join(RESULTS_DIR, 'parity_runs')
for path in (HERE, REPO_ROOT):
    if path not in sys.path:
        sys.path.insert(0, path)

SIDES = ('official', 'ours')
SCORINGS = ('threshold_0.5', 'per_image_max')
REPORTED = ('IoU', 'nIoU', 'Pd', 'Fa', 'precision', 'recall')


@dataclasses.dataclass
class ParitySpec:
    """One model's parity setting (the same budget on both sides).

    Attributes:
        config: our config, relative to the repository root.
        dataset: name of the data set (the folder under ``datasets/``).
        size: training side, also given to the official network.
        epochs: epochs trained on each side.
        official_loader: the official dataset class of that data set.
        official_batch, official_workers: the official ``DataLoader``.
    """
    config: str
    dataset: str
    size: int
    epochs: int
    official_loader: str
    official_batch: int
    official_workers: int


SPECS: Dict[str, ParitySpec] = {
    # The issue-13 recipe: DATransNet's train.py defaults (batch 4, Adam
    # 5e-4, MultiStepLR 200/300 per epoch, batch soft-IoU, no augmentation,
    # DataLoader(shuffle=True, num_workers=1)), 3 epochs of NUDT-SIRST.
    'datransnet': ParitySpec(
        config='configs/datransnet/datransnet_1xb4-400e_nudt-sirst-256x256.py',
        dataset='NUDT-SIRST', size=256, epochs=3,
        official_loader='NUDTSIRSTSetLoader', official_batch=4,
        official_workers=1),
}


# --------------------------------------------------------------------------
# Scoring (the same for both sides)


def _sample(probability: torch.Tensor, gt: torch.Tensor) -> dict:
    """An ``IRSTDMetric`` data sample from a (H, W) probability map."""
    logits = torch.logit(probability.double().clamp(0, 1))
    return dict(seg_logits=dict(data=logits[None]),
                gt_sem_seg=dict(data=gt.long()[None]))


def score(predictions: Iterable[Tuple[torch.Tensor, torch.Tensor]]) -> dict:
    """Score (probability (H, W), mask (H, W)) pairs by both rules.

    ``per_image_max`` divides each map by its maximum first, as DATransNet's
    ``evaluation/pd_fa.py`` does (a map that is all zero predicts nothing).
    """
    from serankdet.evaluation import IRSTDMetric
    metrics = {name: IRSTDMetric() for name in SCORINGS}
    for probability, gt in predictions:
        metrics['threshold_0.5'].process(None, [_sample(probability, gt)])
        peak = probability.max()
        relative = probability / peak if peak > 0 else probability
        metrics['per_image_max'].process(None, [_sample(relative, gt)])
    result = {}
    for name, metric in metrics.items():
        values = metric.compute_metrics(metric.results)
        result[name] = {key: float(values[key]) for key in REPORTED}
        result[name]['num_images'] = int(values['num_images'])
    return result


# --------------------------------------------------------------------------
# The official side


def _split_stems(data_root: str, split: str) -> List[str]:
    folder = osp.join(data_root, split, 'images')
    if not osp.isdir(folder):
        raise FileNotFoundError(
            f'{folder} not found: --data-root must hold '
            '{trainval,test}/{images,masks} (see datasets/README.md)')
    return sorted(osp.splitext(name)[0] for name in os.listdir(folder))


def official_layout(data_root: str, dataset: str, tmp: str) -> str:
    """Lay our split folders out as DATransNet's loaders read them:
    ``images/``, ``masks/`` (links to every file of both splits) and
    ``img_idx/{train,test}_<dataset>.txt``."""
    base = osp.join(tmp, dataset)
    for sub in ('images', 'masks', 'img_idx'):
        os.makedirs(osp.join(base, sub), exist_ok=True)
    for split, listed in (('trainval', 'train'), ('test', 'test')):
        stems = _split_stems(data_root, split)
        for sub in ('images', 'masks'):
            for stem in stems:
                os.symlink(
                    osp.abspath(osp.join(data_root, split, sub, stem + '.png')),
                    osp.join(base, sub, stem + '.png'))
        with open(osp.join(base, 'img_idx', f'{listed}_{dataset}.txt'),
                  'w') as f:
            f.write('\n'.join(stems) + '\n')
    return base


def seed_like_official(seed: int) -> None:
    """DATransNet ``utils/utils.py`` ``seed_pytorch``."""
    import random
    random.seed(seed)
    os.environ['PYTHONHASHSEED'] = str(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def run_official(model_name: str, spec: ParitySpec, seed: int,
                 reference_root: str, data_root: str) -> dict:
    """Train and score one seed with the official training loop."""
    from augmentation_parity import load_official
    from reference_models import build_reference
    data_module = load_official(model_name, reference_root)
    with tempfile.TemporaryDirectory() as tmp:
        base = official_layout(data_root, spec.dataset, tmp)
        # train.py: seed_pytorch(opt.seed) first, then the data set, the
        # loader and the network (the first torch draws).
        seed_like_official(seed)
        loader_cls = getattr(data_module, spec.official_loader)
        train_set = loader_cls(base_dir=base, mode='trainval')
        train_loader = torch.utils.data.DataLoader(
            train_set, batch_size=spec.official_batch, shuffle=True,
            num_workers=spec.official_workers)
        reference = build_reference(model_name, reference_root, spec.size,
                                    seed=seed)
        optimizer = reference.make_optimizer(reference.model.parameters())
        scheduler = reference.make_scheduler(optimizer)
        epoch_losses = []
        start = time.time()
        for epoch in range(spec.epochs):
            scheduler.start_epoch(epoch)
            losses = []
            for img, mask in train_loader:
                if img.shape[0] == 1:  # train.py skips a batch of one
                    continue
                loss = reference.loss(reference.forward_train(img), mask)
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                losses.append(float(loss.detach()))
            scheduler.end_epoch(epoch)
            epoch_losses.append(float(np.mean(losses)))
            print(f'official {model_name} seed {seed}: epoch {epoch + 1} '
                  f'loss {epoch_losses[-1]:.4f}', flush=True)
        train_seconds = time.time() - start
        start = time.time()
        test_set = loader_cls(base_dir=base, mode='test')

        def predictions():
            with torch.no_grad():
                for index in range(len(test_set)):
                    img, mask = test_set[index][:2]
                    prob = reference.forward_eval(img[None])[0, 0]
                    yield prob, mask[0] > 0.5

        scores = score(predictions())
        test_seconds = time.time() - start
    return dict(scores=scores, epoch_losses=epoch_losses,
                train_seconds=train_seconds, test_seconds=test_seconds,
                learning_rate_end=optimizer.param_groups[0]['lr'],
                command='official training loop (benchmarks/parity.py)')


# --------------------------------------------------------------------------
# Our side


def _last_checkpoint(work_dir: str) -> str:
    with open(osp.join(work_dir, 'last_checkpoint')) as f:
        return f.read().strip()


def _child_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_ours(model_name: str, spec: ParitySpec, seed: int,
             data_root: str, work_dir: str) -> dict:
    """Train with ``tools/train.py`` and score the last checkpoint."""
    from mmengine.runner import Runner

    from serankdet.apis import init_model
    overrides = [
        f'train_cfg.max_epochs={spec.epochs}',
        # no validation during training: both sides are scored once, below
        f'train_cfg.val_interval={spec.epochs + 1}',
        f'randomness.seed={seed}',
        f'train_dataloader.dataset.data_root={data_root}',
        f'val_dataloader.dataset.data_root={data_root}',
        f'test_dataloader.dataset.data_root={data_root}',
    ]
    command = [sys.executable, osp.join(REPO_ROOT, 'tools', 'train.py'),
               osp.join(REPO_ROOT, spec.config), '--work-dir', work_dir,
               '--cfg-options', *overrides]
    start = time.time()
    subprocess.run(command, check=True, cwd=REPO_ROOT)
    train_seconds = time.time() - start
    checkpoint = _last_checkpoint(work_dir)
    start = time.time()
    model = init_model(
        osp.join(REPO_ROOT, spec.config), checkpoint,
        cfg_options={'test_dataloader.dataset.data_root': data_root})
    loader = Runner.build_dataloader(model.cfg.test_dataloader)

    def predictions():
        with torch.no_grad():
            for batch in loader:
                for sample in model.test_step(batch):
                    yield (sample.seg_logits.data[0].sigmoid(),
                           sample.gt_sem_seg.data[0] > 0)

    scores = score(predictions())
    test_seconds = time.time() - start
    return dict(scores=scores, train_seconds=train_seconds,
                test_seconds=test_seconds, checkpoint=osp.relpath(
                    checkpoint, REPO_ROOT),
                command=' '.join(
                    ['python tools/train.py', spec.config, '--work-dir',
                     osp.relpath(work_dir, REPO_ROOT), '--cfg-options',
                     *overrides]))


# --------------------------------------------------------------------------
# Runs, sweep, summary


def run_path(model_name: str, epochs: int, side: str, seed: int) -> str:
    return osp.join(RUNS_DIR, model_name, f'{epochs}ep',
                    f'{side}_seed{seed}.json')


def write_json_atomic(path: str, data: dict) -> None:
    os.makedirs(osp.dirname(path), exist_ok=True)
    tmp = path + '.tmp'
    with open(tmp, 'w') as f:
        json.dump(data, f, indent=1)
        f.write('\n')
    os.replace(tmp, path)


def run_one(args) -> None:
    spec = dataclasses.replace(SPECS[args.model],
                               epochs=args.epochs or SPECS[args.model].epochs)
    torch.set_num_threads(args.threads)
    data_root = args.data_root[args.model]
    cpu_before = time.process_time() + _child_cpu_seconds()
    if args.side == 'official':
        result = run_official(args.model, spec, args.seed,
                              args.reference_root[args.model], data_root)
    else:
        work_dir = osp.join(REPO_ROOT, 'work_dirs', 'parity', args.model,
                            f'ours_seed{args.seed}_{int(time.time())}')
        result = run_ours(args.model, spec, args.seed, data_root, work_dir)
    result.update(
        model=args.model, side=args.side, seed=args.seed,
        epochs=spec.epochs, dataset=spec.dataset, threads=args.threads,
        cpu_seconds=time.process_time() + _child_cpu_seconds() - cpu_before,
        finished=time.strftime('%Y-%m-%d %H:%M:%S'),
        machine=f'{platform.machine()}, {os.cpu_count()} cores, '
        f'torch {torch.__version__}')
    write_json_atomic(
        run_path(args.model, spec.epochs, args.side, args.seed), result)
    print(json.dumps(result['scores'], indent=1))


def _run_command(args, model: str, side: str, seed: int,
                 threads: int) -> List[str]:
    command = [sys.executable, osp.abspath(__file__), 'run', '--model',
               model, '--side', side, '--seed', str(seed), '--threads',
               str(threads), '--epochs', str(_epochs(args, model))]
    for key, value in args.reference_root.items():
        command += ['--reference-root', f'{key}={value}']
    for key, value in args.data_root.items():
        command += ['--data-root', f'{key}={value}']
    return command


def _epochs(args, model: str) -> int:
    return args.epochs or SPECS[model].epochs


def run_all(args) -> None:
    """Every missing (model, seed, side) run, ``--jobs`` at a time, each
    in its own process with ``threads = cores // jobs``."""
    threads = max(1, (os.cpu_count() or 1) // args.jobs)
    pending = [(model, side, seed) for model in args.models
               for seed in args.seeds for side in SIDES
               if not osp.isfile(run_path(model, _epochs(args, model), side,
                                          seed))]
    print(f'{len(pending)} runs to do, {args.jobs} at a time, '
          f'{threads} thread(s) each', flush=True)
    env = dict(os.environ, OMP_NUM_THREADS=str(threads),
               MKL_NUM_THREADS=str(threads))
    running: List[Tuple[subprocess.Popen, tuple]] = []
    failed = []
    while pending or running:
        while pending and len(running) < args.jobs:
            run = pending.pop(0)
            model, side, seed = run
            log_path = run_path(model, _epochs(args, model), side,
                                seed)[:-5] + '.log'
            os.makedirs(osp.dirname(log_path), exist_ok=True)
            log = open(log_path, 'w')
            running.append((subprocess.Popen(
                _run_command(args, *run, threads), env=env, stdout=log,
                stderr=subprocess.STDOUT), run))
        time.sleep(5)
        for proc, run in list(running):
            if proc.poll() is not None:
                running.remove((proc, run))
                print(f'{run}: exit {proc.returncode}', flush=True)
                if proc.returncode:
                    failed.append(run)
    summarise(args.models, args.epochs)
    if failed:
        raise SystemExit(f'failed runs (see their .log files): {failed}')


def _mean_std(values: List[float]) -> dict:
    array = np.asarray(values, dtype=float)
    std = float(array.std(ddof=1)) if len(array) > 1 else math.nan
    return dict(mean=float(array.mean()), std=std, n=len(array),
                values=[float(v) for v in array])


def summarise(models: Iterable[str], epochs: Optional[int] = None) -> None:
    for model in models:
        spec = dataclasses.replace(SPECS[model],
                                   epochs=epochs or SPECS[model].epochs)
        folder = osp.join(RUNS_DIR, model, f'{spec.epochs}ep')
        runs = []
        if osp.isdir(folder):
            for name in sorted(os.listdir(folder)):
                if name.endswith('.json'):
                    with open(osp.join(folder, name)) as f:
                        runs.append(json.load(f))
        sides = {}
        for side in SIDES:
            mine = [run for run in runs if run['side'] == side]
            if not mine:
                continue
            entry = dict(seeds=[run['seed'] for run in mine])
            for scoring in SCORINGS:
                entry[scoring] = {
                    key: _mean_std([run['scores'][scoring][key]
                                    for run in mine]) for key in REPORTED}
            for key in ('train_seconds', 'test_seconds', 'cpu_seconds'):
                entry[key] = _mean_std([run[key] for run in mine])
            sides[side] = entry
        summary = dict(model=model, spec=dataclasses.asdict(spec),
                       sides=sides, runs=runs)
        write_json_atomic(
            osp.join(RESULTS_DIR, f'parity_{model}_{spec.epochs}ep.json'),
            summary)
        print_table(f'{model}, {spec.epochs} epoch(s)', sides)


def _fmt(stat: dict, scale: float = 1.0, digits: int = 3) -> str:
    if math.isnan(stat['std']):
        return f'{stat["mean"] * scale:.{digits}f}'
    return (f'{stat["mean"] * scale:.{digits}f} ± '
            f'{stat["std"] * scale:.{digits}f}')


def print_table(model: str, sides: dict) -> None:
    print(f'\n{model}: mean ± std over seeds')
    print('| side | scoring | seeds | ' + ' | '.join(REPORTED) +
          ' | train min | test s |')
    print('|---' * (len(REPORTED) + 5) + '|')
    for side, entry in sides.items():
        for scoring in SCORINGS:
            cells = [_fmt(entry[scoring][key], digits=1 if key == 'Fa'
                          else 3) for key in REPORTED]
            print(f'| {side} | {scoring} | {len(entry["seeds"])} | ' +
                  ' | '.join(cells) +
                  f' | {_fmt(entry["train_seconds"], 1 / 60, 1)} | '
                  f'{_fmt(entry["test_seconds"], 1, 0)} |')


def _key_values(pairs: Optional[List[str]], option: str) -> Dict[str, str]:
    result = {}
    for pair in pairs or []:
        key, sep, value = pair.partition('=')
        if not sep or key not in SPECS:
            raise SystemExit(f'{option} {pair!r}: expected MODEL=PATH with '
                             f'MODEL one of {sorted(SPECS)}')
        result[key] = value
    return result


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    sub = parser.add_subparsers(dest='action', required=True)
    for name in ('run', 'all'):
        p = sub.add_parser(name)
        p.add_argument('--reference-root', action='append', metavar='M=DIR',
                       help='checkout of the official code of model M')
        p.add_argument('--data-root', action='append', metavar='M=DIR',
                       help='data set of model M in our split layout')
    sub.add_parser('summary')
    for p in sub.choices.values():
        p.add_argument('--epochs', type=int, default=None,
                       help='epochs on each side (default: the model\'s '
                       'ParitySpec); results are kept per epoch budget')
    run = sub.choices['run']
    run.add_argument('--model', choices=sorted(SPECS), required=True)
    run.add_argument('--side', choices=SIDES, required=True)
    run.add_argument('--seed', type=int, required=True)
    run.add_argument('--threads', type=int, default=os.cpu_count())
    every = sub.choices['all']
    every.add_argument('--models', nargs='+', choices=sorted(SPECS),
                       default=sorted(SPECS))
    every.add_argument('--seeds', nargs='+', type=int, default=[42, 43, 44])
    every.add_argument('--jobs', type=int, default=2)
    summary = sub.choices['summary']
    summary.add_argument('--models', nargs='+', choices=sorted(SPECS),
                         default=sorted(SPECS))
    args = parser.parse_args(argv)
    if args.action in ('run', 'all'):
        args.reference_root = _key_values(args.reference_root,
                                          '--reference-root')
        args.data_root = _key_values(args.data_root, '--data-root')
        needed = [args.model] if args.action == 'run' else args.models
        for model in needed:
            if model not in args.data_root:
                raise SystemExit(f'--data-root {model}=DIR is needed')
            if model not in args.reference_root and (
                    args.action == 'all' or args.side == 'official'):
                raise SystemExit(f'--reference-root {model}=DIR is needed')
    return args


def main(argv=None) -> None:
    args = parse_args(argv)
    if args.action == 'run':
        run_one(args)
    elif args.action == 'all':
        run_all(args)
    else:
        summarise(args.models, args.epochs)


if __name__ == '__main__':
    main()
