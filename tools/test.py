"""Evaluate a checkpoint on a config's test set.

    python tools/test.py CONFIG CKPT [--work-dir DIR] [--out FILE] [--show]
        [--show-dir DIR] [--save-curves FILE [--curve-points N]] [--amp]
        [--cfg-options key=value ...]

Prints the metric table and writes the metrics as JSON (``--out``, default
``test_metrics.json`` in the run's own ``<work_dir>/<timestamp>/`` folder,
so test runs never overwrite each other). The work dir defaults to
``test_<checkpoint name>/`` next to the checkpoint (``work_dirs/<config
name>/`` when that folder is read-only), never to a training run's folder. ``--show-dir`` writes one panel per image
(image | ground truth | prediction, hits green, misses blue, false alarms
red). ``--save-curves`` also writes Pd, Fa, IoU, ... at N probability
thresholds k / (N + 1) to FILE (input of tools/analysis_tools/plot_curves.py).
``--amp`` runs the model under autocast (float16 on a GPU, bfloat16 on a CPU).
"""
import argparse
import inspect
import json
import os
import os.path as osp
import sys
from typing import List

from serankdet.cli import add_common_args, run_cli


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Test an IRSTD model')
    parser.add_argument('config', help='config file')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--out', help='metrics JSON file')
    parser.add_argument('--show', action='store_true',
                        help='display each panel in a window')
    parser.add_argument('--show-dir', help='folder for per-image panels')
    parser.add_argument('--wait-time', type=float, default=0.5,
                        help='seconds each panel is displayed with --show')
    parser.add_argument('--save-curves', metavar='FILE',
                        help='write per-threshold Pd/Fa/IoU curves (JSON)')
    parser.add_argument('--curve-points', type=int, default=99,
                        help='thresholds of --save-curves (default 99)')
    parser.add_argument(
        '--amp', action='store_true',
        help='mixed precision inference: float16 on a GPU, bfloat16 on a '
        'CPU (faster where the CPU has AVX512-BF16/AMX)')
    add_common_args(parser)
    return parser.parse_args(argv)


#: Arguments a metric must take to compute and write curves (IRSTDMetric's).
CURVE_ARGS = ('curve_thresholds', 'curve_file')


def _metric_configs(evaluator) -> List[dict]:
    """The metric config dicts of a ``test_evaluator`` value: one metric
    dict, a list of them, or an evaluator dict with ``metrics``."""
    if isinstance(evaluator, dict) and 'metrics' in evaluator:
        evaluator = evaluator['metrics']
    metrics = evaluator if isinstance(evaluator, (list, tuple)) else [
        evaluator]
    return [metric for metric in metrics if isinstance(metric, dict)]


def _takes_curve_args(metric: dict) -> bool:
    """Whether the metric's class takes ``curve_thresholds`` and
    ``curve_file`` (IRSTDMetric does, mmengine's DumpResults and mmseg's
    IoUMetric do not)."""
    from serankdet.registry import METRICS
    cls = metric.get('type')
    if isinstance(cls, str):
        cls = METRICS.get(cls)
    if not inspect.isclass(cls):
        return False
    params = inspect.signature(cls.__init__).parameters
    return all(name in params for name in CURVE_ARGS)


def add_curve_options(evaluator, points: int, path: str) -> List[str]:
    """Make the curve-computing metrics of ``evaluator`` (the config's
    ``test_evaluator``, changed in place) write curves at ``points``
    thresholds to ``path``. Other metrics (e.g. ``DumpResults``) are left
    as they are. With several such metrics, the second writes to
    ``<stem>.2<ext>``, and so on.

    Returns:
        list[str]: the curve files, one per curve-computing metric.
    """
    from serankdet.apis import register_all_modules
    register_all_modules()  # to look the metric types up
    metrics = [m for m in _metric_configs(evaluator) if _takes_curve_args(m)]
    if not metrics:
        types = [m.get('type') for m in _metric_configs(evaluator)]
        raise ValueError(
            '--save-curves needs a metric that computes curves in '
            f'test_evaluator (IRSTDMetric), the config has {types}: add '
            "dict(type='IRSTDMetric') to test_evaluator")
    stem, ext = osp.splitext(path)
    files = [path] + [f'{stem}.{i}{ext}' for i in range(2, len(metrics) + 1)]
    for metric, curve_file in zip(metrics, files):
        metric.update(curve_thresholds=points, curve_file=curve_file)
    if len(files) > 1:
        print(f'--save-curves: {len(files)} metrics compute curves, written '
              f'to {", ".join(files)}')
    return files


def default_work_dir(checkpoint: str, fallback: str) -> str:
    """``test_<checkpoint stem>/`` beside the checkpoint, or ``fallback``
    when the checkpoint's folder is not writable."""
    folder = osp.dirname(osp.abspath(checkpoint))
    if not os.access(folder, os.W_OK):
        return fallback
    stem = osp.splitext(osp.basename(checkpoint))[0]
    return osp.join(folder, f'test_{stem}')


def main(argv=None):
    args = parse_args(argv)
    # imported after parsing: --help and argument errors answer at once
    from serankdet.cli import (build_runner, check_data_roots, load_config,
                               tidy_if_failed_early)
    from serankdet.utils import use_mixed_precision
    if not osp.isfile(args.checkpoint):
        raise FileNotFoundError(
            f'checkpoint "{args.checkpoint}" does not exist')
    cfg = load_config(args)
    if not args.work_dir:
        cfg.work_dir = default_work_dir(args.checkpoint, cfg.work_dir)
    cfg.load_from = args.checkpoint
    cfg.resume = False
    if args.amp:
        use_mixed_precision(cfg, training=False)
    if args.show or args.show_dir:
        hook = cfg.default_hooks.setdefault(
            'visualization', dict(type='IRSTDVisualizationHook'))
        hook.update(draw=True, interval=1, show=args.show,
                    wait_time=max(args.wait_time, 0.01),
                    out_dir=args.show_dir)
    if args.save_curves:
        add_curve_options(cfg.test_evaluator, args.curve_points,
                          args.save_curves)
    check_data_roots(cfg, ('test_dataloader', ))
    with tidy_if_failed_early(cfg.work_dir):
        runner = build_runner(cfg)
        metrics = runner.test()
    out = args.out or osp.join(runner.log_dir, 'test_metrics.json')
    os.makedirs(osp.dirname(osp.abspath(out)), exist_ok=True)
    with open(out, 'w') as handle:
        json.dump(dict(config=args.config, checkpoint=args.checkpoint,
                       metrics=metrics), handle, indent=2, default=float)
    print(f'metrics written to {out}')


if __name__ == '__main__':
    sys.exit(run_cli(main))
