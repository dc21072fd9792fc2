"""IRSTD-1k (Zhang et al., ISNet, CVPR 2022) from its release to
datasets/IRSTD-1k.

    python tools/dataset_converters/irstd1k.py SRC [DST]

SRC as downloaded via https://github.com/RuiZhang97/ISNet (the archive or
its folder): IRSTD1k_Img/, IRSTD1k_Label/, trainval.txt, test.txt (800 /
201). Also accepted: BasicIRSTD's layout (images/, masks/, img_idx/) and
SAM-SPL's (images/, masks/; add --split-dir
SAM-SPL/dataset/set_configs/IRSTD-1k).
"""
import sys

from serankdet.cli import run_cli
from serankdet.cli.dataset_converter import converter_main

main = converter_main('irstd1k', 'IRSTD-1k', __doc__)

if __name__ == '__main__':
    sys.exit(run_cli(main))
