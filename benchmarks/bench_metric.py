"""Time IRSTDMetric (process + compute_metrics) on the NUDT-SIRST test masks.

Predictions are made deterministically from the ground-truth masks (seeded):
targets dilated by a 3x3 square, about 10% of the images emptied (missed
targets), 0-3 small false-alarm blobs per image, converted to logits with a
little noise that never crosses the threshold. The metric then scores the
664 images at native resolution (256x256).

With ``--reference-root NAME=PATH`` (repeatable; NAME in
``reference_metrics.REFERENCES``) the peers' own metric code is also timed,
loaded from the user's checkout at PATH and driven as the peer's test script
drives it on the same predictions and masks; the table then gets a ratio
column (median / our default median) and the peers' values are checked
against ours computed with the same definition.

Example::

    python benchmarks/bench_metric.py --runs 7 \
        --out work_dirs/benchmarks/metric.json \
        --reference-root serankdet=/path/to/SeRankDet \
        --reference-root basicirstd=/path/to/BasicIRSTD
"""
import argparse
import glob
import os
import os.path as osp
import platform
import sys
import time

import cv2
import numpy as np
import torch
from mmengine.fileio import dump
from mmengine.logging import MMLogger
from mmengine.utils import mkdir_or_exist
from reference_metrics import REFERENCES, describe_config

REPO_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
DEFAULT_MASKS = osp.join(REPO_ROOT, '..', 'shared', 'datasets', 'NUDT-SIRST',
                         'test', 'masks')
TARGET_SECONDS = 0.4
# Peer values agree with ours when equal up to float32 rounding (BasicIRSTD
# returns Fa as a float32 tensor).
AGREE_RTOL, AGREE_ATOL = 1e-6, 1e-9


def reference_root(text):
    """``NAME=PATH`` of --reference-root -> (NAME, PATH)."""
    name, sep, path = text.partition('=')
    if not sep or not path or name not in REFERENCES:
        raise argparse.ArgumentTypeError(
            f'expected NAME=PATH with NAME in {sorted(REFERENCES)}, got '
            f'{text!r}')
    return name, path


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--masks', default=DEFAULT_MASKS,
                        help='folder of ground-truth mask PNGs')
    parser.add_argument('--runs', type=int, default=7,
                        help='timed runs after one warm-up (>= 5)')
    parser.add_argument('--batch-size', type=int, default=8)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument(
        '--torch-threads', type=int, default=1,
        help='torch intra-op threads. The reference code runs thousands of '
        'small torch ops; with 2 threads on a busy 2-core machine their '
        'OpenMP spin-waits made SeRankDet\'s metric 9x slower (our metric '
        'runs no torch op here)')
    parser.add_argument('--out', default='work_dirs/benchmarks/metric.json',
                        help='JSON file for the results')
    parser.add_argument(
        '--reference-root', type=reference_root, action='append',
        default=[], metavar='NAME=PATH',
        help='also time the peer NAME\'s own metric code from its checkout '
        f'at PATH (repeatable; NAME in {sorted(REFERENCES)})')
    return parser.parse_args()


def make_samples(mask_paths, seed, batch_size):
    """Batches of packed samples: (1, H, W) float32 logits + int64 masks."""
    rng = np.random.default_rng(seed)
    kernel = np.ones((3, 3), np.uint8)
    samples = []
    for path in mask_paths:
        mask = cv2.imread(path, cv2.IMREAD_GRAYSCALE)
        if mask is None:
            raise FileNotFoundError(f'cannot read mask {path}')
        gt = (mask > 0).astype(np.uint8)
        pred = np.zeros_like(gt) if rng.random() < 0.1 else cv2.dilate(
            gt, kernel)
        h, w = gt.shape
        for _ in range(rng.integers(0, 4)):
            r, c = rng.integers(0, h - 3), rng.integers(0, w - 3)
            size = rng.integers(1, 4)
            pred[r:r + size, c:c + size] = 1
        noise = rng.normal(0.0, 0.5, size=gt.shape).clip(-2, 2)
        logits = np.where(pred > 0, 4.0, -6.0) + noise
        samples.append(
            dict(
                seg_logits=dict(
                    data=torch.from_numpy(logits.astype(np.float32))[None]),
                gt_sem_seg=dict(data=torch.from_numpy(gt.astype(
                    np.int64))[None]),
                img_path=path))
    return [
        samples[i:i + batch_size] for i in range(0, len(samples), batch_size)
    ]


def time_runs(func, runs):
    """Median/min/max seconds of ``func()`` over runs after a warm-up.

    Returns:
        tuple[dict, object]: the timings and the last run's return value.
    """
    times, cpu_times, result = [], [], None
    for run in range(runs + 1):
        start, cpu_start = time.perf_counter(), time.process_time()
        result = func()
        if run:  # run 0 is the warm-up
            times.append(time.perf_counter() - start)
            cpu_times.append(time.process_time() - cpu_start)
    return dict(
        median_s=float(np.median(times)),
        min_s=float(np.min(times)),
        max_s=float(np.max(times)),
        # CPU seconds of this process: less sensitive than wall time to
        # other jobs sharing the cores.
        median_cpu_s=float(np.median(cpu_times)),
        runs=runs), result


def evaluate_metric(metric, batches, splits=None):
    """process() over all batches + evaluate(), without the curves.

    ``splits`` (a list) receives the seconds spent in process(), the part
    a test loop runs batch by batch while the model works, and in
    evaluate(), the part left after the last batch.
    """
    start = time.perf_counter()
    for batch in batches:
        metric.process(None, batch)
    middle = time.perf_counter()
    result = metric.evaluate(sum(len(b) for b in batches))
    if splits is not None:
        splits.append((middle - start, time.perf_counter() - middle))
    return {k: v for k, v in result.items() if not k.endswith('/curves')}


def time_metric(metric_cfg, batches, runs):
    """Timings of IRSTDMetric(**metric_cfg) on all batches + its metrics."""
    from serankdet.evaluation import IRSTDMetric
    metric = IRSTDMetric(**metric_cfg)
    splits = []
    timing, metrics = time_runs(
        lambda: evaluate_metric(metric, batches, splits), runs)
    process_s, after_loop_s = np.median(splits[1:], axis=0)
    return dict(timing, process_s=float(process_s),
                after_loop_s=float(after_loop_s), metrics=metrics)


def time_references(roots, batches, runs):
    """Time each peer's metric code on the predictions / masks of batches.

    Returns:
        dict: per peer name, the timings and ``values`` (IoU / nIoU / Pd
        fractions, Fa in 1e-6), or ``skipped`` with the reason.
    """
    samples = [s for batch in batches for s in batch]
    logits = [s['seg_logits']['data'][0].numpy() for s in samples]
    masks = [s['gt_sem_seg']['data'][0].numpy() for s in samples]
    results = {}
    for name, root in roots:
        entry = dict(root=osp.abspath(root), file=REFERENCES[name].file)
        # Third-party code from the user's checkout: whatever its version
        # raises skips that peer with the reason, the others still run.
        try:
            peer = REFERENCES[name](root)
            inputs = peer.prepare(logits, masks)
            timing, values = time_runs(lambda: peer.run(inputs), runs)
        except Exception as err:
            results[name] = dict(
                entry, skipped=f'{type(err).__name__}: {err}')
            continue
        results[name] = dict(
            entry,
            protocol=peer.protocol,
            batch_size=peer.batch_size,
            values=values,
            **timing)
    return results


def compare_references(references, our_metrics):
    """Print and record peer vs our values; ``our_metrics(cfg)`` -> dict."""
    print('Agreement on the same predictions (IoU / nIoU / Pd in %, Fa in '
          '1e-6; "ours" = our metric built as stated):')
    header = (f'{"peer":<12}{"value":<6}{"peer":>12}{"ours":>12}'
              f'{"|diff|":>10}  {"agree":<7}ours from')
    print(header)
    print('-' * len(header))
    legacy_effect = False
    for name, ref in references.items():
        if 'skipped' in ref:
            continue
        ref['agreement'] = {}
        for key, peer_value in ref['values'].items():
            cfg = REFERENCES[name].compared_to[key]
            ours = our_metrics(cfg)[f'irstd/{key}']
            agree = bool(np.isclose(peer_value, ours, rtol=AGREE_RTOL,
                                    atol=AGREE_ATOL))
            ref['agreement'][key] = dict(
                peer=peer_value, ours=ours, agree=agree,
                ours_config=describe_config(cfg))
            scale = 1 if key == 'Fa' else 100
            diff = abs(peer_value - ours) * scale
            print(f'{name:<12}{key:<6}{peer_value * scale:>12.6f}'
                  f'{ours * scale:>12.6f}{diff:>10.2e}'
                  f'  {"yes" if agree else "NO":<7}{describe_config(cfg)}')
            legacy_effect |= ours != our_metrics({})[f'irstd/{key}']
    if not legacy_effect:
        print(f'Note: here {describe_config({})} gives the same values as '
              'every case compared, so this check covers the shared '
              'definitions, not the legacy differences (greedy matching, '
              'nIoU of empty images, Fa area de-dup).')


def main():
    args = parse_args()
    if args.runs < 5:
        sys.exit('--runs must be >= 5')
    if args.torch_threads < 1:
        sys.exit('--torch-threads must be >= 1')
    torch.set_num_threads(args.torch_threads)
    mask_paths = sorted(glob.glob(osp.join(args.masks, '*.png')))
    if not mask_paths:
        print(f'No masks under {osp.abspath(args.masks)}: NUDT-SIRST test '
              'masks are needed for this benchmark; skipping.')
        return
    from serankdet.apis import register_all_modules
    register_all_modules()
    # Keep the metric's per-evaluation table out of the timing output.
    MMLogger.get_instance('bench_metric', log_level='WARNING')

    batches = make_samples(mask_paths, args.seed, args.batch_size)
    cases = {
        'default': dict(),
        'legacy (greedy, nIoU zero, Fa area de-dup)':
        dict(legacy=True, fa_area_dedup=True),
        'default + 19-point curves': dict(curve_thresholds=19),
    }
    report = dict(
        images=len(mask_paths),
        masks=osp.abspath(args.masks),
        batch_size=args.batch_size,
        seed=args.seed,
        target_s=TARGET_SECONDS,
        cpu_count=os.cpu_count(),
        cv2_threads=cv2.getNumThreads(),
        torch_threads=torch.get_num_threads(),
        load_average=os.getloadavg(),
        python=platform.python_version(),
        numpy=np.__version__,
        opencv=cv2.__version__,
        cases={})
    # The ratio column only appears next to reference code.
    with_ratio = bool(args.reference_root)
    header = (f'{"case":<45}{"median s":>10}{"min s":>9}{"max s":>9}'
              f'{"CPU s":>9}' + (f'{"ratio":>8}' if with_ratio else ''))

    def print_row(name, res):
        ratio = res['median_s'] / report['cases']['default']['median_s']
        print(f'{name:<45}{res["median_s"]:>10.3f}{res["min_s"]:>9.3f}'
              f'{res["max_s"]:>9.3f}{res["median_cpu_s"]:>9.3f}' +
              (f'{ratio:>8.2f}' if with_ratio else ''))
        return ratio

    print(f'IRSTDMetric on {len(mask_paths)} NUDT-SIRST test masks, '
          f'{args.runs} runs after a warm-up')
    print(header)
    print('-' * len(header))
    for name, cfg in cases.items():
        res = time_metric(cfg, batches, args.runs)
        report['cases'][name] = dict(config=cfg, **res)
        print_row(name, res)
    if with_ratio:
        report['references'] = time_references(args.reference_root, batches,
                                                args.runs)
        for name, ref in report['references'].items():
            if 'skipped' not in ref:
                ref['ratio_to_default'] = print_row(
                    f'{name} reference code', ref)
        print('ratio = median / our default median. Reference code, as its '
              'test script drives it:')
        for name, ref in report['references'].items():
            print(f'  {name}: ' + (f'skipped ({ref["skipped"]})' if 'skipped'
                                   in ref else f'{ref["protocol"]} '
                                   f'({osp.join(ref["root"], ref["file"])})'))

        def our_metrics(cfg):
            """Metrics of IRSTDMetric(**cfg): a timed case's, or computed."""
            for case in report['cases'].values():
                if case['config'] == cfg:
                    return case['metrics']
            from serankdet.evaluation import IRSTDMetric
            return evaluate_metric(IRSTDMetric(**cfg), batches)

        if any('skipped' not in r for r in report['references'].values()):
            compare_references(report['references'], our_metrics)
    default = report['cases']['default']
    print(f'default: {default["process_s"]:.3f} s in process(), batch by '
          'batch while the model runs in a test loop, '
          f'{default["after_loop_s"] * 1000:.1f} ms after the last batch')
    m = default['metrics']
    print(f'default metrics: IoU {m["irstd/IoU"] * 100:.2f}%, nIoU '
          f'{m["irstd/nIoU"] * 100:.2f}%, Pd {m["irstd/Pd"] * 100:.2f}%, Fa '
          f'{m["irstd/Fa"]:.2f}e-6, targets {m["irstd/num_targets"]}')
    verdict = 'meets' if default['median_s'] <= TARGET_SECONDS else 'misses'
    print(f'default median {default["median_s"]:.3f} s {verdict} the '
          f'{TARGET_SECONDS} s target (load average '
          f'{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)')
    mkdir_or_exist(osp.dirname(osp.abspath(args.out)))
    dump(report, args.out, file_format='json', indent=2)
    print(f'wrote {args.out}')


if __name__ == '__main__':
    main()
