"""NUDT-SIRST-Sea (Wu et al., MTU-Net, TGRS 2023) from its release to
datasets/NUDT-SIRST-Sea.

    python tools/dataset_converters/nudt_sea.py SRC [DST] [--split-dir DIR]

SRC as downloaded via the Baidu link in the README of
github.com/TianhaoWu16/Multi-level-TransUNet-for-Space-based-Infrared-Tiny-
ship-Detection (NUDT-SIRST-Sea.zip or its folder): images/, masks/,
idx_4961+847/{train,test}.txt (4961 / 847). Also accepted: BasicIRSTD's
layout (img_idx/) and SAM-SPL's NUDT-sea (images/, masks/; add
--split-dir SAM-SPL/dataset/set_configs/NUDT-sea).
"""
import sys

from serankdet.cli import run_cli
from serankdet.cli.dataset_converter import converter_main

main = converter_main('nudt_sea', 'NUDT-SIRST-Sea', __doc__)

if __name__ == '__main__':
    sys.exit(run_cli(main))
