"""Pd-Fa (ROC) and IoU-threshold curves of one or several models.

    python tools/analysis_tools/plot_curves.py RESULTS... [--out PNG]
        [--labels NAME...] [--log-fa] [--title TEXT]

Each RESULTS file is what ``tools/test.py --save-curves FILE`` writes (the
per-threshold curves of :class:`IRSTDMetric`: ``threshold``, ``Pd``, ``Fa``
(x 1e-6), ``IoU``, ...) or a metrics JSON holding them (``tools/test.py
--out`` of a run with ``--save-curves``, key ``irstd/curves``). One figure
with two panels: Pd against Fa (ROC as the IRSTD papers draw it; each point
is one probability threshold) and IoU against the threshold. Models are
labelled by ``--labels`` or by their file names.
"""
import argparse
import json
import os
import os.path as osp

import matplotlib

matplotlib.use('Agg')  # files only; no display needed
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

REQUIRED = ('threshold', 'Pd', 'Fa', 'IoU')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Plot Pd-Fa and IoU-threshold curves of saved results')
    parser.add_argument('results', nargs='+', help='curve or metrics JSON '
                        'files (tools/test.py --save-curves / --out)')
    parser.add_argument('--out', default='curves.png', help='output PNG')
    parser.add_argument('--labels', nargs='+', help='one name per file')
    parser.add_argument('--log-fa', action='store_true',
                        help='logarithmic Fa axis (thresholds with Fa = 0 '
                        'are then not drawn)')
    parser.add_argument('--title', help='figure title')
    args = parser.parse_args(argv)
    if args.labels and len(args.labels) != len(args.results):
        parser.error(f'--labels needs {len(args.results)} names, got '
                     f'{len(args.labels)}')
    return args


def load_curves(path: str) -> dict:
    """Per-threshold arrays from a curve file or a metrics JSON.

    Raises:
        KeyError: the file holds no curves (test without --save-curves).
    """
    with open(path, encoding='utf-8') as handle:
        data = json.load(handle)
    candidates = [data, data.get('metrics', {})]
    for source in candidates:
        for key, value in list(source.items()):
            if key == 'curves' or key.endswith('/curves'):
                candidates.append(value)
    for source in candidates:
        if isinstance(source, dict) and all(k in source for k in REQUIRED):
            curves = {k: np.asarray(v, dtype=np.float64)
                      for k, v in source.items()}
            order = np.argsort(curves['threshold'])
            return {k: v[order] for k, v in curves.items()}
    raise KeyError(f'{path} holds no per-threshold curves ({", ".join(REQUIRED)})'
                   ': run tools/test.py with --save-curves FILE')


def plot(curves: list, labels: list, out: str, log_fa: bool = False,
         title: str = None) -> None:
    """Draw the two panels for every model and save the PNG."""
    fig, (roc, iou) = plt.subplots(1, 2, figsize=(11, 4.5))
    for curve, label in zip(curves, labels):
        fa, pd = curve['Fa'], curve['Pd'] * 100
        keep = fa > 0 if log_fa else np.ones_like(fa, dtype=bool)
        roc.plot(fa[keep], pd[keep], marker='.', label=label)
        iou.plot(curve['threshold'], curve['IoU'] * 100, marker='.',
                 label=label)
    roc.set_xlabel('Fa (x 1e-6)')
    roc.set_ylabel('Pd (%)')
    roc.set_title('Pd - Fa (one point per threshold)')
    if log_fa:
        roc.set_xscale('log')
    iou.set_xlabel('probability threshold')
    iou.set_ylabel('IoU (%)')
    iou.set_title('IoU - threshold')
    for axis in (roc, iou):
        axis.grid(True, alpha=0.3)
        axis.legend()
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    os.makedirs(osp.dirname(osp.abspath(out)), exist_ok=True)
    fig.savefig(out, dpi=120)
    plt.close(fig)


def main(argv=None) -> int:
    args = parse_args(argv)
    curves = [load_curves(path) for path in args.results]
    labels = args.labels or [osp.splitext(osp.basename(p))[0]
                             for p in args.results]
    plot(curves, labels, args.out, args.log_fa, args.title)
    print(f'curves of {len(curves)} result file(s) written to {args.out}')
    return 0


if __name__ == '__main__':
    raise SystemExit(main())
