"""Seed-averaged training parity on real data: the official code and ours.

``step_exact.py`` shows that one optimizer step of ours equals one of the
official code; this script checks the whole short training run on a real
data set, where data order, augmentation, initialisation and evaluation
also count. For each model it trains several seeds with each side's own
training code, on the same data and budget, and scores every trained model
on the same test split with the same metric:

* ``official``: the authors' training loop, driven from this script with
  their own parts imported at run time from a checkout (nothing copied):
  their dataset class on the files laid out as it reads them, their
  ``DataLoader`` settings (batch, shuffle, workers, ``drop_last``), network
  (seeded as their script seeds it), loss, optimizer and per-epoch
  scheduler (via ``verification/official_models.py``), their
  batch-skipping rule;
* ``ours``: ``tools/train.py CONFIG`` exactly as a user runs it, with the
  epoch count, seed and data root overridden on the command line. Where
  the parity setting is not a paper setting (a random SAM2 trunk, a
  width-reduced SeRankDet) CONFIG is a small config written into the work
  directory that inherits the paper config and changes only that
  (``ParitySpec.config_changes``, recorded in the run JSON).

The models (``SPECS``; each side's seconds per iteration measured with one
thread beside another one-thread job):

* ``datransnet``: DATransNet on NUDT-SIRST, its ``train.py`` recipe;
* ``samspl-t``: SAM-SPL-T on NUDT-SIRST, its ``training.py`` recipe, both
  sides on a randomly initialised frozen Hiera trunk (the SAM2 weights are
  not available offline);
* ``samspl-t-softiou``: the same on a reduced setting meant to learn in a
  CPU budget: each output's BCE plus a batch soft-IoU term (on the official
  side through its ``Trainer``'s ``loss_fn`` hook), lr 1e-3, batch 4,
  2 epochs;
* ``serankdet``: SeRankDet at width 8 (``serankdet-w8``: channels 8 ... 128,
  the official K per stage 512 ... 32) on SIRST at base/crop 256, its
  ``train.py`` recipe otherwise. The official class fixes its width in
  ``__init__`` (``n1 = 64``) and keys its Top-K tables by channel count;
  ``official_models.build_reference(..., base_channels=8)`` changes both at
  import time (the checkout is untouched).

Scoring: the final model predicts every test image at its native size
(both sides pad bottom/right to the network's stride with zeros after
normalisation and crop the prediction back); the probabilities are scored
by ``IRSTDMetric`` twice: ``threshold 0.5`` (the toolbox's definitions, the
same for both sides) and ``per-image max``, the DATransNet test script's
Pd/Fa rule (``evaluation/pd_fa.py`` divides each probability map by its
maximum before thresholding at 0.5, so every image predicts something); its
IoU rule is the plain 0.5 threshold. SeRankDet's own test mode resizes
frames to the base size; the official side here feeds the native frame
through the official dataset's normalisation instead, so that both sides
are scored on the same pixels.

Each run writes ``benchmarks/results/parity_runs/<model>/<E>ep/<side>_seed
<S>.json`` as soon as it ends (runs already there are skipped, so an
interrupted sweep continues where it stopped); ``summary`` collects them
into ``benchmarks/results/parity_<model>_<E>ep.json`` with mean and sample
standard deviation per side and prints the table. ``--epochs E`` and
``--batch B`` change the budget on both sides (a batch other than the
spec's is kept apart as ``<E>ep_b<B>``); ``run --side ours --work-dir DIR``
scores the last checkpoint of an earlier run instead of training again. ``--limit-train N`` /
``--limit-test N`` (smoke runs only: the first N images of each split, by
stem) write under ``benchmarks/results/parity_smoke/`` and
``work_dirs/parity_smoke/`` instead, one folder per limit, so they never mix
with real runs.

Usage (``PYTHONPATH`` with ``einops`` for the SeRankDet checkout)::

    python benchmarks/parity.py all --models datransnet --seeds 42 43 44 \\
        --reference-root datransnet=../DATransNet \\
        --data-root datransnet=../shared/datasets/NUDT-SIRST --jobs 2
    python benchmarks/parity.py all --models samspl-t --seeds 42 43 44 \\
        --reference-root samspl-t=../SAM-SPL \\
        --data-root samspl-t=../shared/datasets/NUDT-SIRST --jobs 2
    python benchmarks/parity.py all --models samspl-t-softiou \\
        --seeds 42 43 44 --reference-root samspl-t-softiou=../SAM-SPL \\
        --data-root samspl-t-softiou=../shared/datasets/NUDT-SIRST --jobs 2
    python benchmarks/parity.py all --models serankdet --seeds 42 43 44 \\
        --reference-root serankdet=../SeRankDet \\
        --data-root serankdet=../shared/datasets/SIRST --jobs 2
    python benchmarks/parity.py summary --models datransnet samspl-t \\
        samspl-t-softiou serankdet

``--jobs 2`` trains an official and an our run side by side with one thread
each, so both see the same machine load.

``cross`` splits a difference between the sides into training and testing:
it scores one of our checkpoints through our test path and through the
official one (the official network holding the same weights, mapped back by
the model's converter; the official test data and forward), frame by frame,
and prints both scores and the largest probability difference::

    python benchmarks/parity.py cross --model datransnet \
        --checkpoint work_dirs/parity/datransnet/ours_seed43_<t>/epoch_3.pth \
        --reference-root datransnet=../DATransNet \
        --data-root datransnet=../shared/datasets/NUDT-SIRST --out cross.json

``init-law`` compares where training starts: each side's code initialises
its network from the same seed (the official network as its script builds
it, ours by ``init_weights()`` of the parity config), and for every official
tensor the converter maps, the mean and std of both are compared in
standard errors; a tensor more than ``LAW_Z_LIMIT`` apart is reported as
drawn from another law (single-element tensors are only listed)::

    python benchmarks/parity.py init-law --models datransnet samspl-t \
        serankdet --reference-root datransnet=../DATransNet \
        --reference-root samspl-t=../SAM-SPL \
        --reference-root serankdet=../SeRankDet \
        --out benchmarks/results/parity_init_law.json

``drift`` asks whether a difference of the seed runs comes from the
training dynamics or from the random streams (data order, flips,
initialisation draws). Both sides start from the same weights (the
official network as its code initialises it from ``--seed``, mapped into
ours by the converter) and train on the same real, unaugmented batches
(``--steps`` batches of the training split in a seeded order) in float32,
with ``step_exact.py``'s loops; then the official side runs again with
``--noise-floor`` threads, which changes only the rounding. Reported: the
losses by quarter of the run, how far each run's weights are from the
official run's (fingerprints at steps 1, 5, 10, 25, ...; the final state
by group), and the main output on ``--probe`` test frames (scores, share of
pixels above 0.5, largest probability difference), written to
``benchmarks/results/parity_drift_<model>_seed<S>.json``. ``--cfg-options``
changes our side's config only (e.g. ``model.decode_head.loss_decode.0.
through_probability=True``, the official BCE clamp); the file name then
ends with the options' last keys and values::

    python benchmarks/parity.py drift --model samspl-t-softiou --steps 100 \
        --reference-root samspl-t-softiou=../SAM-SPL \
        --data-root samspl-t-softiou=../shared/datasets/NUDT-SIRST \
        --seed 42
"""
import argparse
import os
import os.path as osp
import sys
from typing import Dict, List, Optional

from mmengine.config import DictAction

HERE = osp.dirname(osp.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)

# the names benchmarks/tests/test_parity_settings.py checks are importable
# from here too
from verification import RESULTS_DIR  # noqa: E402
from verification.comparison import (  # noqa: E402,F401
    tensor_law, window_means)
from verification.diagnostics import (  # noqa: E402,F401
    cross_score, drift, drift_frames, init_law)
from verification.official_models import CONVERTER_NAMES  # noqa: E402,F401
from verification.scoring import probe_scores as _probe  # noqa: E402,F401
from verification.settings import PARITY_SPECS as SPECS  # noqa: E402
from verification.settings import reference_name  # noqa: E402,F401
from verification.sweep import (  # noqa: E402,F401
    RUNS_DIR, SIDES, SMOKE_DIR, _run_command, run_all, run_one, run_path,
    runs_folder, setting, summarise)
from verification.trainings import (  # noqa: E402,F401
    _epoch_losses, our_config)


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
    for name in ('run', 'all', 'cross'):
        p = sub.add_parser(name)
        p.add_argument('--reference-root', action='append', metavar='M=DIR',
                       help='checkout of the official code of model M')
        p.add_argument('--data-root', action='append', metavar='M=DIR',
                       help='data set of model M in our split layout')
    sub.add_parser('summary')
    drift_parser = sub.add_parser('drift')
    drift_parser.add_argument('--model', choices=sorted(SPECS), required=True)
    drift_parser.add_argument('--reference-root', action='append',
                              metavar='M=DIR', required=True,
                              help='checkout of the official code of model M')
    drift_parser.add_argument('--data-root', action='append', metavar='M=DIR',
                              required=True,
                              help='data set of model M in our split layout')
    drift_parser.add_argument('--steps', type=int, default=100)
    drift_parser.add_argument('--seed', type=int, default=42)
    drift_parser.add_argument('--probe', type=int, default=32,
                              help='test frames predicted after training')
    drift_parser.add_argument('--threads', type=int, default=1)
    drift_parser.add_argument('--noise-floor', type=int, default=2,
                              metavar='THREADS',
                              help='thread count of the second official run')
    drift_parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction, default={},
        metavar='KEY=VALUE',
        help='changes to our config only, e.g. model.decode_head.'
        'loss_decode.0.through_probability=True (the official BCELoss '
        'clamp)')
    drift_parser.add_argument(
        '--out', default=None, help='default: benchmarks/results/'
        'parity_drift_<model>_seed<S>.json')
    law = sub.add_parser('init-law')
    law.add_argument('--reference-root', action='append', metavar='M=DIR',
                     help='checkout of the official code of model M')
    law.add_argument('--models', nargs='+', choices=sorted(SPECS),
                     default=sorted(SPECS))
    law.add_argument('--seed', type=int, default=0)
    law.add_argument('--out', default=None,
                     help='also write the comparison to this JSON file')
    for p in sub.choices.values():
        p.add_argument('--epochs', type=int, default=None,
                       help='epochs on each side (default: the model\'s '
                       'ParitySpec); results are kept per epoch budget')
        p.add_argument('--batch', type=int, default=None,
                       help='training batch on each side (default: the '
                       'model\'s ParitySpec); results of another batch are '
                       'kept apart (<E>ep_b<B>)')
        for split in ('train', 'test'):
            p.add_argument(f'--limit-{split}', type=int, default=None,
                           metavar='N',
                           help=f'smoke runs only: the first N {split} '
                           'images (by stem) on both sides; results go to '
                           'benchmarks/results/parity_smoke/')
    run = sub.choices['run']
    run.add_argument('--model', choices=sorted(SPECS), required=True)
    run.add_argument('--side', choices=SIDES, required=True)
    run.add_argument('--seed', type=int, required=True)
    run.add_argument('--threads', type=int, default=os.cpu_count())
    run.add_argument('--work-dir', default=None,
                     help='ours only: score the last checkpoint of this '
                     'earlier run of the same setting and seed instead of '
                     'training (a run whose scoring failed)')
    every = sub.choices['all']
    every.add_argument('--models', nargs='+', choices=sorted(SPECS),
                       default=sorted(SPECS))
    every.add_argument('--seeds', nargs='+', type=int, default=[42, 43, 44])
    every.add_argument('--jobs', type=int, default=2)
    cross = sub.choices['cross']
    cross.add_argument('--model', choices=sorted(SPECS), required=True)
    cross.add_argument('--checkpoint', required=True,
                       help='one of our checkpoints of the parity setting')
    cross.add_argument('--out', default=None,
                       help='also write the scores to this JSON file')
    summary = sub.choices['summary']
    summary.add_argument('--models', nargs='+', choices=sorted(SPECS),
                         default=sorted(SPECS))
    args = parser.parse_args(argv)
    for option in ('limit_train', 'limit_test', 'epochs', 'batch'):
        if getattr(args, option) is not None and getattr(args, option) < 1:
            raise SystemExit(f'--{option.replace("_", "-")} must be >= 1')
    if args.action == 'run' and args.work_dir and (
            args.side != 'ours'
            or not osp.isfile(osp.join(args.work_dir, 'last_checkpoint'))):
        raise SystemExit(f'--work-dir {args.work_dir}: needs --side ours and '
                         'a work dir holding a last_checkpoint')
    if args.action == 'cross' and not osp.isfile(args.checkpoint):
        raise SystemExit(f'--checkpoint {args.checkpoint}: no such file')
    if args.action == 'init-law':
        args.reference_root = _key_values(args.reference_root,
                                          '--reference-root')
        for model in args.models:
            if model not in args.reference_root:
                raise SystemExit(f'--reference-root {model}=DIR is needed')
    if args.action == 'drift':
        for option in ('steps', 'probe', 'threads', 'noise_floor'):
            if getattr(args, option) < 1:
                raise SystemExit(f'--{option.replace("_", "-")} must be >= 1')
        if args.noise_floor == args.threads:
            raise SystemExit('--noise-floor must differ from --threads (the '
                             'second official run changes only the rounding)')
        # a run with changed options must not replace the plain run's file
        options = ''.join(f'_{key.rsplit(".", 1)[-1]}-{value}'
                          for key, value in sorted(args.cfg_options.items()))
        args.out = args.out or osp.join(
            RESULTS_DIR,
            f'parity_drift_{args.model}_seed{args.seed}{options}.json')
    if args.action in ('run', 'all', 'cross', 'drift'):
        args.reference_root = _key_values(args.reference_root,
                                          '--reference-root')
        args.data_root = _key_values(args.data_root, '--data-root')
        needed = (args.models if args.action == 'all' else [args.model])
        for model in needed:
            if model not in args.data_root:
                raise SystemExit(f'--data-root {model}=DIR is needed')
            if model not in args.reference_root and (
                    args.action != 'run' or args.side == 'official'):
                raise SystemExit(f'--reference-root {model}=DIR is needed')
    return args


def main(argv=None) -> None:
    args = parse_args(argv)
    if args.action == 'run':
        run_one(args)
    elif args.action == 'all':
        run_all(args)
    elif args.action == 'cross':
        cross_score(args)
    elif args.action == 'init-law':
        init_law(args)
    elif args.action == 'drift':
        drift(args)
    else:
        summarise(args)


if __name__ == '__main__':
    main()
