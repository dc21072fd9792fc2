"""Evaluate a checkpoint on a config's test set.

    python tools/test.py CONFIG CKPT [--work-dir DIR] [--out FILE] [--show]
        [--show-dir DIR] [--save-curves FILE [--curve-points N]] [--force]
        [--amp] [--cfg-options key=value ...]
    python tools/test.py MODEL_NAME [options]   # a shipped model, by name
    python tools/test.py CONFIG --backend onnxruntime --onnx MODEL.onnx [opts]

Prints the metric table and writes the metrics as JSON (``--out``, default
``test_metrics.json`` in the run's own ``<work_dir>/<timestamp>/`` folder,
so test runs never overwrite each other; an existing ``--out`` or
``--save-curves`` file is replaced only with ``--force``, checked before the
run starts). The work dir defaults to
``test_<checkpoint name>/`` next to the checkpoint (``work_dirs/<config
name>/`` when that folder is read-only or is the shipped weights'
``checkpoints/``), never to a training run's folder. ``--show-dir`` writes one panel per image
(image | ground truth | prediction, hits green, misses blue, false alarms
red). ``--save-curves`` also writes Pd, Fa, IoU, ... at N probability
thresholds k / (N + 1) to FILE (input of tools/analysis_tools/plot_curves.py);
without it the metric sweeps those thresholds too, for the Pd at fixed
false-alarm rates (Pd@Fa=1e-6, 1e-5, 0.1 false objects per image) it
reports beside the fixed-threshold numbers. A checkpoint calibrated by
``tools/analysis_tools/calibrate.py`` (``CKPT.decision.json`` beside it) is
tested with its calibrated decision rule, said at the start, unless
``--cfg-options`` sets ``model.decode_head.threshold`` (or ``min_area``,
``max_area``, ``seed_threshold``); the JSON records the rule used.
``--amp`` runs the model under autocast (float16 on a GPU, bfloat16 on a CPU).
``--backend onnxruntime --onnx MODEL.onnx`` (no CKPT) scores the graph of
``tools/deployment/export_onnx.py`` or ``quantize_onnx.py``: the runner's
model keeps its data preprocessor, sliding windows and decision rule while
its network runs in ONNX Runtime on the CPU; the work dir defaults to
``test_<onnx name>/`` beside the file. The decision rule is the one the
export stored in the graph's metadata (the checkpoint's: calibrated, or the
config's), said at the start and overridden by ``--cfg-options`` as a
calibration file is; a graph exported without one is tested with the
config's rule and a warning.
"""
import argparse
import inspect
import json
import os
import os.path as osp
import sys
from typing import List, Optional

from serankdet.cli import add_backend_args, add_common_args, run_cli


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Test an IRSTD model')
    parser.add_argument('config', help='config file, or the name of a '
                        'shipped model (model-index.yml)')
    parser.add_argument('checkpoint', nargs='?',
                        help='checkpoint file or model-zoo name (default '
                        'with a model-zoo name as config: its weights)')
    parser.add_argument('--out', help='metrics JSON file')
    parser.add_argument('--force', action='store_true',
                        help='replace the --out / --save-curves files if '
                        'they exist')
    parser.add_argument('--show', action='store_true',
                        help='display each panel in a window')
    parser.add_argument('--show-dir', help='folder for per-image panels')
    parser.add_argument('--wait-time', type=float, default=0.5,
                        help='seconds each panel is displayed with --show')
    parser.add_argument('--save-curves', metavar='FILE',
                        help='write per-threshold Pd/Fa/IoU curves (JSON)')
    parser.add_argument('--curve-points', type=int, default=99,
                        help='thresholds of the curves (--save-curves, Pd '
                        'at fixed false-alarm rates; default 99)')
    parser.add_argument(
        '--amp', action='store_true',
        help='mixed precision inference: float16 on a GPU, bfloat16 on a '
        'CPU (faster where the CPU has AVX512-BF16/AMX)')
    add_common_args(parser)
    add_backend_args(parser)
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


def add_curve_options(evaluator, points: int,
                      path: Optional[str] = None) -> List[str]:
    """Make the curve-computing metrics of ``evaluator`` (the config's
    ``test_evaluator``, changed in place) write curves at ``points``
    thresholds to ``path``. Other metrics (e.g. ``DumpResults``) are left
    as they are. With several such metrics, the second writes to
    ``<stem>.2<ext>``, and so on. Without ``path`` they compute curves
    (for the Pd at fixed false-alarm rates) at ``points`` thresholds unless
    the config gives their own ``curve_thresholds``, and write none.

    Returns:
        list[str]: the curve files, one per curve-computing metric.
    """
    from serankdet.apis import register_all_modules
    register_all_modules()  # to look the metric types up
    metrics = [m for m in _metric_configs(evaluator) if _takes_curve_args(m)]
    if path is None:
        for metric in metrics:
            metric.setdefault('curve_thresholds', points)
        return []
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
    when the checkpoint's folder is not writable or holds the shipped
    weights (the repository's ``checkpoints/``: releases, not outputs)."""
    from serankdet.apis.model_zoo import ZOO_ROOT
    folder = osp.dirname(osp.abspath(checkpoint))
    shipped = osp.realpath(folder) == osp.realpath(
        osp.join(ZOO_ROOT, 'checkpoints'))
    if shipped or not os.access(folder, os.W_OK):
        return fallback
    stem = osp.splitext(osp.basename(checkpoint))[0]
    return osp.join(folder, f'test_{stem}')


def main(argv=None):
    args = parse_args(argv)
    # imported after parsing: --help and argument errors answer at once
    from serankdet.cli import (build_runner, check_data_roots,
                               check_output_file, is_rank_zero, load_config,
                               resolve_model_args, tidy_if_failed_early)
    from serankdet.evaluation.calibration import (apply_calibration,
                                                  rule_options)
    from serankdet.apis.backends import (ONNXRuntimeNetwork,
                                         apply_onnx_rule, check_backend,
                                         use_onnx_backend)
    from serankdet.utils import use_mixed_precision
    onnx = check_backend(args.backend, args.onnx, args.checkpoint, 'cpu',
                         args.amp)
    if not onnx:
        resolve_model_args(args)
        if args.checkpoint is None:
            raise ValueError('a checkpoint is needed: tools/test.py CONFIG '
                             'CHECKPOINT (or a model-zoo name alone)')
    weights = args.onnx if onnx else args.checkpoint
    if not osp.isfile(weights):
        raise FileNotFoundError(f'{"ONNX file" if onnx else "checkpoint"} '
                                f'"{weights}" does not exist')
    for option, path in (('--out', args.out),
                         ('--save-curves', args.save_curves)):
        if path:
            check_output_file(path, option, args.force)
    cfg = load_config(args)
    # one rule for both backends: the checkpoint's calibration file, or
    # the rule export_onnx.py stored in the graph
    overrides = rule_options(args.cfg_options)
    network = ONNXRuntimeNetwork(args.onnx) if onnx else None
    warning = False
    if onnx:
        message, warning = apply_onnx_rule(cfg, network, overrides)
    else:
        message = apply_calibration(cfg, args.checkpoint, overrides)
    if message:
        print(f'warning: {message}' if warning else message,
              file=sys.stderr if warning else sys.stdout)
    if not args.work_dir:
        cfg.work_dir = default_work_dir(weights, cfg.work_dir)
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
    add_curve_options(cfg.test_evaluator, args.curve_points,
                      args.save_curves)
    check_data_roots(cfg, ('test_dataloader', ))
    with tidy_if_failed_early(cfg.work_dir):
        runner = build_runner(cfg)
        model = getattr(runner.model, 'module', runner.model)
        if onnx:  # the runner's model, its network run by onnxruntime
            use_onnx_backend(model, network)
        metrics = runner.test()
    if not is_rank_zero():  # rank 0 writes and reports the metrics
        return
    out = args.out or osp.join(runner.log_dir, 'test_metrics.json')
    os.makedirs(osp.dirname(osp.abspath(out)), exist_ok=True)
    with open(out, 'w') as handle:
        json.dump(dict(config=args.config, checkpoint=args.checkpoint,
                       backend=args.backend, onnx=args.onnx,
                       decision_rule=model.decode_head.decision_rule.to_dict(),
                       metrics=metrics), handle, indent=2, default=float)
    print(f'metrics written to {out}')


if __name__ == '__main__':
    sys.exit(run_cli(main))
