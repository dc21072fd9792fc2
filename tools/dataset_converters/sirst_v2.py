"""SIRST-V2 (Dai et al., OSCAR, TGRS 2023) from its release to
datasets/SIRST-V2.

    python tools/dataset_converters/sirst_v2.py SRC [DST] [--split full]

SRC as downloaded from https://github.com/YimianDai/open-sirst-v2: the
repository archive or its folder: images/targets/, images/backgrounds/
(target-free frames), annotations/masks/<stem>_pixels0.png,
splits/{trainval,test}_<split>.txt. Splits: full (default, 768 / 256, 510
frames without target), v1 (the SIRST images, 341 / 86), v1fullv2target.
"""
import sys

from serankdet.cli import run_cli
from serankdet.cli.dataset_converter import converter_main

main = converter_main('sirst_v2', 'SIRST-V2', __doc__)

if __name__ == '__main__':
    sys.exit(run_cli(main))
