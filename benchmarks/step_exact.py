"""Step-exact training: the official code and ours, N optimizer steps apart.

For each model the OFFICIAL network (imported at run time from a checkout,
see ``verification/official_models.py``) and OURS are started from the
same weights and trained on the same fixed batches for N optimizer steps,
each with its own training code:

* official: the network, loss, optimizer and per-epoch learning-rate
  schedule of the authors' training script, stepped where that script steps
  it (SeRankDet: ``scheduler.step(epoch - 1)`` before each epoch; DATransNet
  and SAM-SPL: ``scheduler.step()`` after each epoch);
* ours: exactly what ``tools/train.py`` runs: the model built from the
  model's paper config, the official initial weights mapped by our converter
  (``serankdet.models.converters``), ``model.train_step(data, optim_wrapper)``
  (data preprocessor, ``model.loss``, mmengine's ``parse_losses`` and
  ``OptimWrapper.update_params``) with the optim wrapper built by mmengine
  from the config's ``optim_wrapper`` and the parameter schedulers built
  from its ``param_scheduler`` as mmengine's ``Runner`` builds them, stepped
  by mmengine's own ``ParamSchedulerHook`` (per iteration or per epoch).

Both run in float64 (``--dtype``), in train mode (BatchNorm on batch
statistics, running statistics updated), on seeded synthetic frames with a
few small bright blobs and their masks, without augmentation. The network
input of the official model is our data preprocessor's output for the same
frames (both models see bit-identical inputs; the data pipelines are
compared elsewhere). The frames are gray and go to the preprocessor as
(1, H, W), not through a loader: the input is the same bit for bit when
the config's loader reads RGB (``color_type='rgb'``, gray replicated to
(3, H, W), then normalised per channel). An epoch is 2 iterations
(``StepSpec.epoch_len``), so schedules defined in epochs change within a
few steps, and the schedule length is compressed the same way on both
sides (``StepSpec.schedule``):
SeRankDet an 8-epoch schedule of which 14 steps reach epoch 6 (lr/5, the
5-epoch linear warm-up, then Poly), DATransNet milestones at epochs 2 and 4,
SAM-SPL a 6-epoch cosine. The paper-length schedules are compared
separately, epoch by epoch, without a network.

Reported per step: official loss, our loss, |difference|, official and our
learning rate; after N steps: the largest absolute and relative difference
over every parameter and every BatchNorm buffer (``running_mean``,
``running_var``, ``num_batches_tracked``), naming the worst key. Parameters
whose exact gradient is 0 (a bias followed by a train-mode BatchNorm, the
key projection bias of softmax attention, attention over a single token)
are reported apart: their computed gradient is rounding noise (1e-20 where
others are 1e-3) that Adam-type optimizers normalise into updates, so they
carry the largest differences; ``--noise-floor THREADS`` reruns the official
code with another thread count to show the official code differs from
itself as much.

The initial weights are regenerated from a seed per official key
(:func:`regenerate_weights`), so that ``benchmarks/tests/test_step_exact.py``
can replay our side without the checkouts against the official losses,
learning rates and final-weight fingerprints stored by ``--write-ci-data``.

Usage::

    PYTHONPATH=<dir with einops> python benchmarks/step_exact.py \\
        --models datransnet samspl-t serankdet \\
        --reference-root datransnet=../DATransNet \\
        --reference-root samspl-t=../SAM-SPL \\
        --reference-root serankdet=../SeRankDet \\
        --out benchmarks/results/step_exact.json [--write-ci-data]
"""
import argparse
import json
import os
import os.path as osp
import sys

import torch

HERE = osp.dirname(osp.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)

# the names benchmarks/tests/test_step_exact.py replays our side with are
# importable from here too
from verification import CI_DATA_DIR, REPO_ROOT, sides  # noqa: E402,F401
from verification.comparison import (  # noqa: E402,F401
    _converter_map, fingerprint)
from verification.reports import print_step_report  # noqa: E402
from verification.settings import STEP_SPECS as SPECS  # noqa: E402
from verification.settings import StepSpec, apply_overrides  # noqa: E402,F401
from verification.sides import (  # noqa: E402,F401
    build_param_schedulers, our_epoch_lrs, run_ours)
from verification.step_exact_run import run_model  # noqa: E402
from verification.synthetic import (  # noqa: E402,F401
    frames_digest, make_frames, regenerate_weights)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--models', nargs='+', choices=list(SPECS),
                        default=list(SPECS))
    parser.add_argument('--reference-root', action='append', default=[],
                        metavar='NAME=PATH',
                        help='checkout of the official repository of NAME')
    parser.add_argument('--steps', type=int,
                        help='optimizer steps (default: per model, >= 12)')
    parser.add_argument('--size', type=int, help='input side (default: '
                        'per model, the smallest the official code takes)')
    parser.add_argument('--dtype', choices=('float64', 'float32'),
                        default='float64')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--threads', type=int,
                        help='torch threads (default: per model)')
    parser.add_argument('--noise-floor', type=int, metavar='THREADS',
                        help='run the official code a second time with '
                        'THREADS torch threads and report how far it moves '
                        'from its first run (rounding, for scale)')
    parser.add_argument('--unfused', action='store_true',
                        help='diagnostic: our optimizer without the '
                        "config's fused=True (the official one is unfused)")
    parser.add_argument('--out', default='benchmarks/results/step_exact.json')
    parser.add_argument('--write-ci-data', action='store_true',
                        help='store the official losses, learning rates and '
                        'weight fingerprints in tests/data for the CI test')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    sides.PROGRESS = True
    roots = dict(item.split('=', 1) for item in args.reference_root)
    missing = [m for m in args.models if m not in roots]
    if missing:
        raise SystemExit(f'--reference-root NAME=PATH missing for {missing}')
    dtype = getattr(torch, args.dtype)
    results = {}
    out = osp.join(REPO_ROOT, args.out) if not osp.isabs(args.out) \
        else args.out
    if osp.exists(out):  # keep the other models of an earlier run
        with open(out) as f:
            results = json.load(f).get('models', {})
    for name in args.models:
        result = run_model(name, roots[name], args.steps, args.size, dtype,
                           args.seed, args.write_ci_data, args.unfused,
                           args.threads, args.noise_floor)
        print_step_report(result)
        results[name] = result
        os.makedirs(osp.dirname(out), exist_ok=True)
        with open(out, 'w') as f:
            json.dump(dict(torch=torch.__version__, python=sys.version,
                           models=results), f, indent=1)
    print(f'\nwrote {out}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
