"""Train a config to the end of its recipe with ``tools/train.py`` and
record the run against the published row it reproduces.

    python benchmarks/reproduce.py CONFIG --seed N [--threads 1]
        [--work-root work_dirs/reproduce] [--score last|best]
    python benchmarks/reproduce.py CONFIG --seed N --collect

The run lives in ``<work-root>/<config name>_seed<N>``; calling the same
command again continues it from its newest checkpoint (``tools/train.py
--resume``: exact, the generator states travel in the checkpoint), so a run
of many hours is done in stages. When the training loop has ended (the
schedule's end, or an early-stopping hook), the last checkpoint (what
BasicIRSTD reports) or the best by validation IoU (``--score best``) is
scored on the test split twice: with the toolbox's optimal assignment and
with BasicIRSTD's greedy matching.

``benchmarks/results/reproduce/<config name>_seed<N>.json`` is rewritten
after every stage (``--collect`` only rewrites it): the command, the
machine, every validation logged so far, the wall time of each stage and
the median seconds per iteration, the final scores when there are some,
and the published run (its scores, wall time and loss every 10 epochs, from
BasicIRSTD's logs: ``benchmarks/results/reproduce/basicirstd_logs.json``).
"""
import argparse
import glob
import json
import os
import os.path as osp
import platform
import statistics
import subprocess
import sys
import time
from datetime import datetime
from typing import List, Optional

REPO_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
RESULTS_ROOT = osp.join(REPO_ROOT, 'benchmarks', 'results', 'reproduce')
METRICS = ('IoU', 'nIoU', 'Pd', 'Fa')
MATCHINGS = ('hungarian', 'greedy')

#: the training logs of the published runs (BasicIRSTD's log/ folder): loss
#: every 10 epochs and the final scores, per config they are reproduced by
REFERENCE_LOGS = osp.join(RESULTS_ROOT, 'basicirstd_logs.json')


def reference_run(name: str) -> Optional[dict]:
    """The published run ``name`` reproduces: its final scores (IoU and Pd
    in %, Fa in 1e-6, the source's greedy matching), wall time and loss
    curve; None when no published log is recorded for it."""
    with open(REFERENCE_LOGS) as handle:
        logs = json.load(handle)
    run = logs['runs'].get(name)
    if run is None:
        return None
    final = run['final']
    return dict(source=logs['source'], log=run['log'],
                IoU=100 * final['IoU'], Pd=100 * final['Pd'],
                Fa=1e6 * final['Fa'], wall_seconds=run['wall_seconds'],
                epoch_losses=run['epoch_losses'])


def session_folders(work_dir: str) -> List[str]:
    """The ``<timestamp>/`` folders mmengine writes, one per stage, oldest
    first."""
    return sorted(path for path in glob.glob(osp.join(work_dir, '2*_*'))
                  if osp.isdir(path))


def read_scalars(folder: str) -> List[dict]:
    path = osp.join(folder, 'vis_data', 'scalars.json')
    if not osp.isfile(path):
        return []
    with open(path) as handle:
        return [json.loads(line) for line in handle if line.strip()]


def stage_record(folder: str) -> dict:
    """One stage: when it started (the folder's name), how long it ran (to
    the last write of its log) and the epochs it trained."""
    name = osp.basename(folder)
    started = datetime.strptime(name, '%Y%m%d_%H%M%S').timestamp()
    log = osp.join(folder, f'{name}.log')
    ended = osp.getmtime(log) if osp.isfile(log) else started
    epochs = sorted({row['epoch'] for row in read_scalars(folder)
                     if 'loss' in row})
    return dict(folder=name, wall_seconds=round(ended - started, 1),
                epochs=[epochs[0], epochs[-1]] if epochs else [])


def collect(work_dir: str) -> dict:
    """Validations (the last record of each epoch: a stage that repeats an
    epoch after a stop supersedes it), the loss per epoch and the stages."""
    validations, losses, iter_seconds = {}, {}, []
    for folder in session_folders(work_dir):
        for row in read_scalars(folder):
            if 'irstd/IoU' in row:
                # step: the epoch (epoch-based runs) or iteration
                validations[row['step']] = dict(
                    step=row['step'],
                    **{name: row[f'irstd/{name}'] for name in METRICS})
            elif 'loss' in row:
                if 'epoch' in row:
                    losses[row['epoch']] = round(row['loss'], 5)
                iter_seconds.append(row['time'])
    return dict(
        validations=[validations[k] for k in sorted(validations)],
        epoch_losses=[dict(epoch=k, loss=losses[k]) for k in sorted(losses)],
        seconds_per_iter_median=(round(statistics.median(iter_seconds), 3)
                                 if iter_seconds else None),
        stages=[stage_record(f) for f in session_folders(work_dir)])


def last_checkpoint(work_dir: str) -> Optional[str]:
    """The checkpoint mmengine's ``last_checkpoint`` file names, or None."""
    from mmengine.runner import find_latest_checkpoint
    if not osp.isfile(osp.join(work_dir, 'last_checkpoint')):
        return None
    return find_latest_checkpoint(work_dir) or None


def best_checkpoint(work_dir: str) -> Optional[str]:
    found = glob.glob(osp.join(work_dir, 'best_irstd_IoU_*.pth'))
    return found[0] if len(found) == 1 else None


def schedule_length(config: str) -> str:
    from mmengine.config import Config
    train_cfg = Config.fromfile(config).train_cfg
    if 'max_epochs' in train_cfg:
        return f'{train_cfg["max_epochs"]} epochs'
    return f'{train_cfg["max_iters"]} iterations'


def score(config: str, checkpoint: str, work_dir: str, seed: int,
          env: dict) -> dict:
    """The test split's scores of ``checkpoint`` under both matchings."""
    scores = {}
    for matching in MATCHINGS:
        out = osp.join(work_dir, f'final_{matching}.json')
        if not osp.isfile(out):
            subprocess.run(
                [sys.executable, osp.join(REPO_ROOT, 'tools', 'test.py'),
                 config, checkpoint, '--work-dir',
                 osp.join(work_dir, f'test_{matching}'), '--out', out,
                 '--cfg-options', f'test_evaluator.matching={matching}',
                 f'randomness.seed={seed}'],
                check=True, env=env, cwd=REPO_ROOT)
        with open(out) as handle:
            metrics = json.load(handle)['metrics']
        scores[matching] = {name: metrics[f'irstd/{name}']
                            for name in METRICS}
    return scores


def write_record(path: str, record: dict) -> None:
    os.makedirs(osp.dirname(path), exist_ok=True)
    with open(path + '.tmp', 'w') as handle:
        json.dump(record, handle, indent=1)
    os.replace(path + '.tmp', path)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--threads', type=int, default=1,
                        help='OMP_NUM_THREADS of the run (default 1: two '
                        'runs share a 2-core machine)')
    parser.add_argument('--work-root',
                        default=osp.join(REPO_ROOT, 'work_dirs', 'reproduce'))
    parser.add_argument('--score', choices=['last', 'best'], default='last',
                        help='the checkpoint scored at the end: the last '
                        '(what BasicIRSTD reports) or the best by IoU')
    parser.add_argument('--collect', action='store_true',
                        help='only rewrite the record from the work dir')
    return parser.parse_args(argv)


def main(argv=None) -> None:
    args = parse_args(argv)
    config = osp.abspath(args.config)
    name = osp.splitext(osp.basename(config))[0]
    work_dir = osp.join(osp.abspath(args.work_root), f'{name}_seed{args.seed}')
    record_path = osp.join(RESULTS_ROOT, f'{name}_seed{args.seed}.json')
    env = dict(os.environ, OMP_NUM_THREADS=str(args.threads),
               MKL_NUM_THREADS=str(args.threads))
    command = (f'python benchmarks/reproduce.py '
               f'{osp.relpath(config, REPO_ROOT)} --seed {args.seed} '
               f'--threads {args.threads} --score {args.score}')
    finished_marker = osp.join(work_dir, 'training_finished')
    if not args.collect and not osp.isfile(finished_marker):
        train = [sys.executable, osp.join(REPO_ROOT, 'tools', 'train.py'),
                 config, '--work-dir', work_dir, '--cfg-options',
                 f'randomness.seed={args.seed}']
        if last_checkpoint(work_dir):
            train.append('--resume')
        subprocess.run(train, check=True, env=env, cwd=REPO_ROOT)
        # the loop ended by itself: the schedule's end or early stopping
        with open(finished_marker, 'w') as handle:
            handle.write(time.strftime('%Y-%m-%d %H:%M:%S\n'))
    finished = osp.isfile(finished_marker)
    record = dict(
        config=osp.relpath(config, REPO_ROOT), seed=args.seed,
        command=command, machine=f'{platform.machine()}, '
        f'{os.cpu_count()} cores, {args.threads} thread(s)',
        schedule=schedule_length(config),
        status='finished' if finished else 'in progress',
        updated=time.strftime('%Y-%m-%d %H:%M:%S'),
        published=reference_run(name), **collect(work_dir))
    record['wall_seconds'] = round(
        sum(stage['wall_seconds'] for stage in record['stages']), 1)
    if finished:
        checkpoint = (last_checkpoint(work_dir) if args.score == 'last' else
                      best_checkpoint(work_dir))
        record['scored_checkpoint'] = osp.basename(checkpoint)
        record['final'] = score(config, checkpoint, work_dir, args.seed, env)
    write_record(record_path, record)
    print(f'{name} seed {args.seed}: {record["status"]}, '
          f'{len(record["validations"])} validations, record {record_path}')


if __name__ == '__main__':
    main()
