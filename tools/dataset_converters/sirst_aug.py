"""SIRST-AUG (Zhang et al., AGPCNet) from its release to
datasets/SIRST-AUG.

    python tools/dataset_converters/sirst_aug.py SRC [DST]

SRC as downloaded via https://github.com/Tianfang-Zhang/AGPCNet (the
archive or its folder): trainval/ and test/, each with images/ and masks/
(8525 / 545); masks named like their image or with a _mask suffix. Also
accepted: copies re-arranged in BasicIRSTD's layout (images/, masks/,
img_idx/{train,test}.txt).
"""
import sys

from serankdet.cli import run_cli
from serankdet.cli.dataset_converter import converter_main

main = converter_main('sirst_aug', 'SIRST-AUG', __doc__)

if __name__ == '__main__':
    sys.exit(run_cli(main))
