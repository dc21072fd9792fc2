"""IRSTDID-SKY (the sky part of IRSTDID-800, Yuan et al., TGRS 2024) with
SAM-SPL's split, to datasets/IRSTDID-SKY.

    git clone https://github.com/fuyimin96/SAM-SPL
    python tools/dataset_converters/irstdid_sky.py SRC [DST] \\
        --split-dir SAM-SPL/dataset/set_configs/IRSTDID-SKY

SRC as downloaded via https://github.com/xdFai/IRSTDID-800 (the archive or
its folder): IRSTDID-SKY/Images/, IRSTDID-SKY/Masks/ (402 / 98 with SAM-SPL's
split; the release itself has none). Also accepted: SAM-SPL's layout
(images/, masks/).
"""
import sys

from serankdet.cli import run_cli
from serankdet.cli.dataset_converter import converter_main

main = converter_main('irstdid_sky', 'IRSTDID-SKY', __doc__)

if __name__ == '__main__':
    sys.exit(run_cli(main))
