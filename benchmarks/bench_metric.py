"""Time IRSTDMetric (process + compute_metrics) on the NUDT-SIRST test masks.

Predictions are made deterministically from the ground-truth masks (seeded):
targets dilated by a 3x3 square, about 10% of the images emptied (missed
targets), 0-3 small false-alarm blobs per image, converted to logits with a
little noise that never crosses the threshold. The metric then scores the
664 images at native resolution (256x256).

Example::

    python benchmarks/bench_metric.py --runs 7 \
        --out work_dirs/benchmarks/metric.json
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

REPO_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
DEFAULT_MASKS = osp.join(REPO_ROOT, '..', 'shared', 'datasets', 'NUDT-SIRST',
                         'test', 'masks')
TARGET_SECONDS = 0.4


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--masks', default=DEFAULT_MASKS,
                        help='folder of ground-truth mask PNGs')
    parser.add_argument('--runs', type=int, default=7,
                        help='timed runs after one warm-up (>= 5)')
    parser.add_argument('--batch-size', type=int, default=8)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--out', default='work_dirs/benchmarks/metric.json',
                        help='JSON file for the results')
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


def time_metric(metric_cfg, batches, runs):
    """Median/min/max seconds of process() over all batches + evaluate()."""
    from serankdet.evaluation import IRSTDMetric
    metric = IRSTDMetric(**metric_cfg)
    size = sum(len(b) for b in batches)
    times, cpu_times, result = [], [], None
    for run in range(runs + 1):
        start, cpu_start = time.perf_counter(), time.process_time()
        for batch in batches:
            metric.process(None, batch)
        result = metric.evaluate(size)
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
        runs=runs,
        metrics={
            k: v
            for k, v in result.items() if not k.endswith('/curves')
        })


def main():
    args = parse_args()
    if args.runs < 5:
        sys.exit('--runs must be >= 5')
    mask_paths = sorted(glob.glob(osp.join(args.masks, '*.png')))
    if not mask_paths:
        print(f'No masks under {osp.abspath(args.masks)}: NUDT-SIRST test '
              'masks are needed for this benchmark; skipping.')
        return
    from serankdet.utils import register_all_modules
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
        load_average=os.getloadavg(),
        python=platform.python_version(),
        numpy=np.__version__,
        opencv=cv2.__version__,
        cases={})
    header = (f'{"case":<45}{"median s":>10}{"min s":>9}{"max s":>9}'
              f'{"CPU s":>9}')
    print(f'IRSTDMetric on {len(mask_paths)} NUDT-SIRST test masks, '
          f'{args.runs} runs after a warm-up')
    print(header)
    print('-' * len(header))
    for name, cfg in cases.items():
        res = time_metric(cfg, batches, args.runs)
        report['cases'][name] = dict(config=cfg, **res)
        print(f'{name:<45}{res["median_s"]:>10.3f}{res["min_s"]:>9.3f}'
              f'{res["max_s"]:>9.3f}{res["median_cpu_s"]:>9.3f}')
    default = report['cases']['default']
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
