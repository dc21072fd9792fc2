"""Evaluate a checkpoint on a config's test set.

    python tools/test.py CONFIG CKPT [--work-dir DIR] [--out FILE] [--show]
        [--show-dir DIR] [--save-curves FILE [--curve-points N]] [--amp]
        [--cfg-options key=value ...]

Prints the metric table and writes the metrics as JSON (``--out``, default
``<work_dir>/test_metrics.json``). ``--show-dir`` writes one panel per image
(image | ground truth | prediction, hits green, misses blue, false alarms
red). ``--save-curves`` also writes Pd, Fa, IoU, ... at N probability
thresholds k / (N + 1) to FILE (input of tools/analysis_tools/plot_curves.py).
``--amp`` runs the model under autocast (float16 on a GPU, bfloat16 on a CPU).
"""
import argparse
import json
import os
import os.path as osp
import sys

from serankdet.apis.train_utils import (add_common_args, build_runner,
                                        load_config, run_cli)
from serankdet.utils import use_mixed_precision


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


def main(argv=None):
    args = parse_args(argv)
    if not osp.isfile(args.checkpoint):
        raise FileNotFoundError(
            f'checkpoint "{args.checkpoint}" does not exist')
    cfg = load_config(args)
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
        evaluators = cfg.test_evaluator
        for metric in (evaluators if isinstance(evaluators, list) else
                       [evaluators]):
            metric.update(curve_thresholds=args.curve_points,
                          curve_file=args.save_curves)
    runner = build_runner(cfg)
    metrics = runner.test()
    out = args.out or osp.join(cfg.work_dir, 'test_metrics.json')
    os.makedirs(osp.dirname(osp.abspath(out)), exist_ok=True)
    with open(out, 'w') as handle:
        json.dump(dict(config=args.config, checkpoint=args.checkpoint,
                       metrics=metrics), handle, indent=2, default=float)
    print(f'metrics written to {out}')


if __name__ == '__main__':
    sys.exit(run_cli(main))
