"""NUDT-SIRST (Li et al., DNANet, TIP 2023) from its release to
datasets/NUDT-SIRST.

    python tools/dataset_converters/nudt_sirst.py SRC [DST]

SRC as downloaded via the links in the README of
https://github.com/YeRen123455/Infrared-Small-Target-Detection (the archive
or its folder): images/, masks/, 50_50/{train,test}.txt
(split dnanet_50_50: 663 / 664). Also accepted: BasicIRSTD's layout
(img_idx/) and SAM-SPL's (images/, masks/; add --split-dir
SAM-SPL/dataset/set_configs/NUDT-SIRST).
"""
import sys

from serankdet.cli import run_cli
from serankdet.cli.dataset_converter import converter_main

main = converter_main('nudt_sirst', 'NUDT-SIRST', __doc__)

if __name__ == '__main__':
    sys.exit(run_cli(main))
