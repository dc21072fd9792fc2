"""``parity.py``'s seed runs: where each run's JSON goes (per budget, real
and smoke runs apart), one run, the sweep of missing runs in parallel
processes, and the summary over seeds."""
import dataclasses
import json
import math
import os
import os.path as osp
import platform
import resource
import subprocess
import sys
import time
from typing import Dict, List, Optional, Tuple

import numpy as np
import torch

from . import BENCHMARKS_DIR, REPO_ROOT, RESULTS_DIR
from .reports import print_table, write_json_atomic
from .scoring import REPORTED, SCORINGS
from .settings import PARITY_SPECS, ParitySpec
from .trainings import run_official, run_ours

RUNS_DIR = osp.join(RESULTS_DIR, 'parity_runs')
SMOKE_DIR = osp.join(RESULTS_DIR, 'parity_smoke')
SIDES = ('official', 'ours')


def _child_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def split_limits(args) -> Dict[str, Optional[int]]:
    return dict(trainval=args.limit_train, test=args.limit_test)


def setting(args, model_name: str) -> ParitySpec:
    """The model's ParitySpec with the budget the command line gives."""
    spec = PARITY_SPECS[model_name]
    return dataclasses.replace(
        spec, epochs=args.epochs or spec.epochs,
        official_batch=args.batch or spec.official_batch)


def setting_name(model_name: str, spec: ParitySpec) -> str:
    """``<E>ep``, plus ``_b<B>`` where the batch is not the spec's."""
    name = f'{spec.epochs}ep'
    if spec.official_batch != PARITY_SPECS[model_name].official_batch:
        name += f'_b{spec.official_batch}'
    return name


def runs_folder(args, model_name: str, spec: ParitySpec) -> str:
    """Real runs: ``parity_runs/<model>/<setting>``; smoke runs (a limit
    set): ``parity_smoke/<model>/<setting>_train<N>_test<M>``."""
    name = setting_name(model_name, spec)
    if args.limit_train is None and args.limit_test is None:
        return osp.join(RUNS_DIR, model_name, name)
    return osp.join(SMOKE_DIR, model_name,
                    f'{name}_train{args.limit_train or "all"}'
                    f'_test{args.limit_test or "all"}')


def run_path(args, model_name: str, side: str, seed: int) -> str:
    return osp.join(runs_folder(args, model_name, setting(args, model_name)),
                    f'{side}_seed{seed}.json')


def run_one(args) -> None:
    spec = setting(args, args.model)
    torch.set_num_threads(args.threads)
    data_root = args.data_root[args.model]
    limits = split_limits(args)
    cpu_before = time.process_time() + _child_cpu_seconds()
    if args.side == 'official':
        result = run_official(args.model, spec, args.seed,
                              args.reference_root[args.model], data_root,
                              limits)
    else:
        smoke = args.limit_train is not None or args.limit_test is not None
        work_dir = args.work_dir or osp.join(
            REPO_ROOT, 'work_dirs', 'parity_smoke' if smoke else 'parity',
            args.model, f'ours_seed{args.seed}_{int(time.time())}')
        result = run_ours(args.model, spec, args.seed, data_root, work_dir,
                          limits, trained=bool(args.work_dir))
    result.update(
        model=args.model, side=args.side, seed=args.seed,
        epochs=spec.epochs, batch=spec.official_batch, dataset=spec.dataset,
        threads=args.threads,
        cpu_seconds=time.process_time() + _child_cpu_seconds() - cpu_before,
        finished=time.strftime('%Y-%m-%d %H:%M:%S'),
        machine=f'{platform.machine()}, {os.cpu_count()} cores, '
        f'torch {torch.__version__}')
    if any(limits.values()):
        result['limits'] = limits
    write_json_atomic(run_path(args, args.model, args.side, args.seed),
                      result)
    print(json.dumps(result['scores'], indent=1))


def _run_command(args, model: str, side: str, seed: int,
                 threads: int) -> List[str]:
    command = [sys.executable, osp.join(BENCHMARKS_DIR, 'parity.py'), 'run',
               '--model', model, '--side', side, '--seed', str(seed),
               '--threads', str(threads)]
    for option, value in (('--epochs', args.epochs), ('--batch', args.batch)):
        if value is not None:
            command += [option, str(value)]
    for key, value in args.reference_root.items():
        command += ['--reference-root', f'{key}={value}']
    for key, value in args.data_root.items():
        command += ['--data-root', f'{key}={value}']
    for option, value in (('--limit-train', args.limit_train),
                          ('--limit-test', args.limit_test)):
        if value is not None:
            command += [option, str(value)]
    return command


def run_all(args) -> None:
    """Every missing (model, seed, side) run, ``--jobs`` at a time, each
    in its own process with ``threads = cores // jobs``."""
    threads = max(1, (os.cpu_count() or 1) // args.jobs)
    pending = [(model, side, seed) for model in args.models
               for seed in args.seeds for side in SIDES
               if not osp.isfile(run_path(args, model, side, seed))]
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
            log_path = run_path(args, model, side, seed)[:-5] + '.log'
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
    summarise(args)
    if failed:
        raise SystemExit(f'failed runs (see their .log files): {failed}')


def _mean_std(values: List[float]) -> dict:
    array = np.asarray(values, dtype=float)
    std = float(array.std(ddof=1)) if len(array) > 1 else math.nan
    return dict(mean=float(array.mean()), std=std, n=len(array),
                values=[float(v) for v in array])


def summarise(args) -> None:
    for model in args.models:
        spec = setting(args, model)
        folder = runs_folder(args, model, spec)
        runs = []
        if osp.isdir(folder):
            for name in sorted(os.listdir(folder)):
                if name.endswith('.json'):
                    with open(osp.join(folder, name)) as f:
                        runs.append(json.load(f))
        if not runs:
            print(f'{model}: no runs in {folder}')
            continue
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
            for key in ('train_seconds', 'test_seconds', 'cpu_seconds',
                        'seconds_per_iteration'):
                if all(key in run for run in mine):
                    entry[key] = _mean_std([run[key] for run in mine])
            sides[side] = entry
        summary = dict(model=model, spec=dataclasses.asdict(spec),
                       sides=sides, runs=runs)
        write_json_atomic(
            osp.join(osp.dirname(folder),
                     f'parity_{model}_{osp.basename(folder)}.json')
            if folder.startswith(SMOKE_DIR) else
            osp.join(RESULTS_DIR,
                     f'parity_{model}_{setting_name(model, spec)}.json'),
            summary)
        print_table(f'{model}, {spec.epochs} epoch(s) at batch '
                    f'{spec.official_batch}', sides)
