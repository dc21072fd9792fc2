"""Augmentation parity: our training pipelines against the official ones.

For each model the OFFICIAL training data code is imported at run time from
a checkout of the authors' repository (nothing of it is copied here):

* SeRankDet: ``utils/data.py`` ``DatasetLoad`` (PIL, ``random``);
* DATransNet: ``utils/datasets.py`` ``NUDTSIRSTSetLoader`` /
  ``IRSTD1KSetLoader`` (cv2, no random augmentation);
* SAM-SPL: ``dataset/image_floder.py`` ``ImageFolder`` (PIL, ``random``),
  its NUDT-SIRST branch, its IRSTD-1k branch with target copy-paste (the
  checkout's ``dataset/IRSTD-1k/Target_{image,mask}`` bank) and its
  IRSTDID-SKY branch;

and OUR training pipeline is built from the model's config (the config's
``train_dataloader.dataset``: our ``IRSTDDataset`` with the mmengine Compose
of ``train_pipeline``) followed by the model's data preprocessor, so both
sides end at the tensor the network receives. Both run on the same real
images (SIRST and NUDT-SIRST in the shared layout
``{trainval,test}/{images,masks}``; a case whose data or checkout is absent
is skipped with a message). The configs of SeRankDet and SAM-SPL read
frames as RGB (``LoadIRSTDImageFromFile(color_type='rgb')``, as PIL
``convert('RGB')``), so their cases draw their images among all frames,
colour ones included, and compare the three channels of the network
input; the gray configs (DATransNet) draw among frames with gray content.
Per case:

a. distributions: ``--draws`` samples per side cycling over the same
   images. The official side's ``random`` module is replaced, inside the
   official module only, by a recorder drawing from its own
   ``random.Random(seed)``; our side's ``numpy.random`` functions are
   replaced by recorders drawing from a ``RandomState(seed)``. Every draw is
   logged and parsed into the augmentation parameters (flip, long side /
   scale factor, crop position, blur and radius, copy-paste count, crop
   index and position), compared by mean, quantiles and the two-sample
   Kolmogorov-Smirnov statistic; each side's flips, long sides, radii and
   paste counts are also tested against the intended law (binomial test,
   chi-square, one-sample KS). Global ``random``, ``numpy`` and ``torch``
   generator states are checked to be untouched (no unlogged draw).
b. pixel-exact: the two sides use different generators (Python ``random``
   vs ``numpy.random``) in a different call order, so they cannot be seeded
   alike. Instead the parameters the official code drew are REPLAYED into
   our pipeline (the numpy functions return them, in our call order, and
   each value is checked to lie in the range our transform asks for), and
   the network inputs and masks are compared pixel by pixel. The same is
   done with our former cv2 resize/blur to show what the fix changed.
c. loaders: every training image and mask read by the official loader
   (PIL ``convert('RGB')`` / cv2 gray) against ours, as one channel
   (``color_type='gray'``) and as RGB (``color_type='rgb'``, which must
   equal PIL's RGB bit for bit).

d. ops: our resize and blur against Pillow's on every training image and
   mask, at long sides 0.5 to 2 x base size and radii 0.1 to 0.9, beside
   the cv2 ops they replaced; and the references' test resize
   (SeRankDet ``mode='test'``) against our ``LegacyTestResize``.

Results: a table per case on stdout and ``--out`` (JSON). When torchvision
is not installed, the official files get a stand-in for the part of
``torchvision.transforms`` they use (``Compose``, ``ToTensor``,
``Normalize``, ``Lambda``, written after torchvision's documented
semantics), installed only while those files are imported.

Usage (from the repository root)::

    python benchmarks/augmentation_parity.py [--draws 2000] \
        [--exact-samples 24] [--reference-root serankdet=../refs/SeRankDet] \
        [--data-root SIRST=../shared/datasets/SIRST]
"""
import argparse
import json
import os
import os.path as osp
import sys

HERE = osp.dirname(osp.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)

from verification import REPO_ROOT  # noqa: E402
from verification.augmentation_cases import run  # noqa: E402
from verification.reports import jsonable  # noqa: E402

DEFAULT_REFS = {
    'serankdet': '../refs/SeRankDet',
    'datransnet': '../refs/DATransNet',
    'samspl': '../refs/SAM-SPL',
}
DEFAULT_DATA = {
    'SIRST': '../shared/datasets/SIRST',
    'NUDT-SIRST': '../shared/datasets/NUDT-SIRST',
}


def parse_pairs(pairs, defaults):
    out = dict(defaults)
    for item in pairs or []:
        key, _, value = item.partition('=')
        out[key] = value
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--reference-root', action='append',
                        metavar='NAME=PATH',
                        help='official checkout (serankdet, datransnet, '
                        f'samspl); defaults {DEFAULT_REFS}')
    parser.add_argument('--data-root', action='append', metavar='NAME=PATH',
                        help=f'dataset (SIRST, NUDT-SIRST); defaults '
                        f'{DEFAULT_DATA}')
    parser.add_argument('--draws', type=int, default=2000,
                        help='samples per side for the distributions')
    parser.add_argument('--exact-samples', type=int, default=24,
                        help='replayed samples per case')
    parser.add_argument('--images', type=int, default=12,
                        help='images per dataset (gray content, spread '
                        'over sizes)')
    parser.add_argument('--ops-images', type=int, default=-1,
                        help='trainval images per dataset for the resize/'
                        'blur op check (-1: all, 0: skip)')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--only', action='append',
                        help='run only cases whose name contains this')
    parser.add_argument('--out', default=osp.join(
        REPO_ROOT, 'benchmarks', 'results', 'augmentation_parity.json'))
    args = parser.parse_args()
    results = run(args, parse_pairs(args.reference_root, DEFAULT_REFS),
                  parse_pairs(args.data_root, DEFAULT_DATA))
    os.makedirs(osp.dirname(args.out), exist_ok=True)
    with open(args.out, 'w') as f:
        json.dump(jsonable(results), f, indent=1)
    print(f'\nwrote {args.out} ({results["seconds"]:.1f} s)')


if __name__ == '__main__':
    main()
