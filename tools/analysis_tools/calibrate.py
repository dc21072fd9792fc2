"""Choose a checkpoint's operating point instead of inheriting 0.5.

    python tools/analysis_tools/calibrate.py CONFIG CKPT
        (--max-fa FA | --max-false-per-frame N | --min-pd PD)
        [--split val|test] [--points N] [--work-dir DIR]
        [--cfg-options key=value ...]

Runs the model on the config's validation split (``--split test``: the
test split) and sweeps the decision threshold over N probabilities
k / (N + 1) (``--points``, default 99) with the config's decision rule
(``model.decode_head``: its area bounds and hysteresis seed are kept).
Prints the Pd-Fa curve and the chosen point:

* ``--max-fa FA``: the highest Pd with Fa <= FA (units of 1e-6 pixels);
* ``--max-false-per-frame N``: the highest Pd with at most N false
  objects per frame;
* ``--min-pd PD``: the lowest Fa with Pd >= PD (a fraction, e.g. 0.95).

The chosen rule is written to ``CKPT.decision.json`` beside the checkpoint
(the checkpoint itself is never changed; the sidecar records its SHA-256 and
is refused for a changed file). ``tools/test.py``, ``tools/infer.py`` and
``IRSTDInferencer`` then use it without a flag and say so; an explicit
``--threshold`` or ``--cfg-options model.decode_head.threshold=...`` still
wins. No threshold of the grid meeting the criterion is an error naming the
best point reached (highest Pd, or lowest Fa). Logs go to
``calibrate_<checkpoint name>/`` beside the checkpoint (``--work-dir`` to
choose).
"""
import argparse
import os
import os.path as osp
import sys

from serankdet.cli import add_common_args, run_cli


def fraction(text: str) -> float:
    """A ``--min-pd`` argument: a number in (0, 1]."""
    try:
        value = float(text)
    except ValueError:
        value = None
    if value is None or not 0.0 < value <= 1.0:
        raise argparse.ArgumentTypeError(
            f'{text!r} is not a detection rate in (0, 1]')
    return value


def non_negative(text: str) -> float:
    """A false-alarm budget: a number >= 0."""
    try:
        value = float(text)
    except ValueError:
        value = None
    if value is None or not value >= 0.0:
        raise argparse.ArgumentTypeError(f'{text!r} is not a number >= 0')
    return value


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Choose the decision threshold of a checkpoint on a '
        'validation split and store it beside the checkpoint')
    parser.add_argument('config', help='config file')
    parser.add_argument('checkpoint', help='checkpoint file')
    criterion = parser.add_mutually_exclusive_group(required=True)
    criterion.add_argument('--max-fa', type=non_negative, metavar='FA',
                           help='highest Pd with Fa <= FA (x 1e-6 pixels)')
    criterion.add_argument('--max-false-per-frame', type=non_negative,
                           metavar='N', help='highest Pd with at most N '
                           'false objects per frame')
    criterion.add_argument('--min-pd', type=fraction, metavar='PD',
                           help='lowest Fa with Pd >= PD (e.g. 0.95)')
    parser.add_argument('--split', choices=('val', 'test'), default='val',
                        help='the config split swept (default val)')
    parser.add_argument('--points', type=int, default=99,
                        help='thresholds swept, k / (N + 1) (default 99)')
    add_common_args(parser)
    return parser.parse_args(argv)


def format_curve(curves: dict, chosen: int) -> str:
    """The curve as a table, the chosen row marked with ``<-``."""
    from prettytable import PrettyTable
    table = PrettyTable(['threshold', 'Pd (%)', 'Fa (1e-6)', 'FA obj/frame',
                         'IoU (%)', ''])
    for i, threshold in enumerate(curves['threshold']):
        table.add_row([f'{threshold:.3f}', f'{curves["Pd"][i] * 100:.2f}',
                       f'{curves["Fa"][i]:.2f}',
                       f'{curves["fa_objects_per_image"][i]:.3f}',
                       f'{curves["IoU"][i] * 100:.2f}',
                       '<-' if i == chosen else ''])
    return table.get_string()


def main(argv=None):
    args = parse_args(argv)
    # imported after parsing: --help and argument errors answer at once
    from serankdet.cli import (build_runner, check_data_roots, is_rank_zero,
                               load_config, tidy_if_failed_early)
    from serankdet.evaluation import IRSTDMetric, normalize_thresholds
    from serankdet.evaluation.calibration import (save_calibration,
                                                  select_operating_point)
    if args.points < 1:
        raise ValueError(f'--points must be >= 1, got {args.points}')
    if not osp.isfile(args.checkpoint):
        raise FileNotFoundError(
            f'checkpoint "{args.checkpoint}" does not exist')
    folder = osp.dirname(osp.abspath(args.checkpoint))
    if not os.access(folder, os.W_OK):
        raise ValueError(f'cannot write the calibration beside '
                         f'{args.checkpoint}: {folder} is not writable')
    criterion = {name: value for name, value in (
        ('max_fa', args.max_fa),
        ('max_false_per_frame', args.max_false_per_frame),
        ('min_pd', args.min_pd)) if value is not None}
    cfg = load_config(args)
    if not args.work_dir:
        stem = osp.splitext(osp.basename(args.checkpoint))[0]
        cfg.work_dir = osp.join(folder, f'calibrate_{stem}')
    cfg.load_from = args.checkpoint
    cfg.resume = False
    # a sweep judges no checkpoint (save_best) and writes none
    cfg.default_hooks.checkpoint = None
    check_data_roots(cfg, (f'{args.split}_dataloader', ))
    with tidy_if_failed_early(cfg.work_dir):
        runner = build_runner(cfg)
        loop = runner.val_loop if args.split == 'val' else runner.test_loop
        if loop is None:
            raise ValueError(
                f'the config has no {args.split} split ({args.split}_'
                f'dataloader, {args.split}_cfg, {args.split}_evaluator); '
                'use --split test or add them')
        metric = next((m for m in loop.evaluator.metrics
                       if isinstance(m, IRSTDMetric)), None)
        if metric is None:
            raise ValueError(f'{args.split}_evaluator has no IRSTDMetric, '
                             'whose curves the calibration sweeps')
        metric.curve_thresholds = normalize_thresholds(args.points)
        results = runner.val() if args.split == 'val' else runner.test()
    if not is_rank_zero():  # every rank has the curves; one writes them
        return
    curves = next(value for key, value in results.items()
                  if key.endswith('curves'))
    chosen = select_operating_point(curves, **criterion)
    wanted = ', '.join(f'{k} {v:g}' for k, v in criterion.items())
    if chosen is None:
        best, closest = (('highest Pd', select_operating_point(
            curves, max_fa=float('inf'))) if 'min_pd' in criterion else
            ('lowest Fa', select_operating_point(curves, min_pd=0.0)))
        raise ValueError(
            f'no threshold of the {args.points}-point grid meets {wanted} on '
            f'the {args.split} split; the {best} is at threshold '
            f'{curves["threshold"][closest]:.3f} (Pd '
            f'{curves["Pd"][closest] * 100:.2f}%, Fa '
            f'{curves["Fa"][closest]:.2f} x 1e-6, '
            f'{curves["fa_objects_per_image"][closest]:.3f} false objects '
            'per frame)')
    fields = ('threshold', 'Pd', 'Fa', 'fa_objects_per_image', 'IoU')
    point = {key: curves[key][chosen] for key in fields}
    rule = metric.decision_rule.with_threshold(point['threshold'])
    print(format_curve(curves, chosen))
    print(f'chosen for {wanted} on the {args.split} split: threshold '
          f'{point["threshold"]:.4g} (Pd {point["Pd"] * 100:.2f}%, Fa '
          f'{point["Fa"]:.2f} x 1e-6, {point["fa_objects_per_image"]:.3f} '
          f'false objects per frame, IoU {point["IoU"] * 100:.2f}%)')
    path = save_calibration(
        args.checkpoint, rule, config=args.config, split=args.split,
        criterion=criterion, point=point,
        curves={key: curves[key] for key in fields})
    print(f'wrote {path}: tools/test.py, tools/infer.py and IRSTDInferencer '
          f'use threshold {rule.threshold:.4g} for {args.checkpoint} without '
          'a flag')


if __name__ == '__main__':
    sys.exit(run_cli(main))
