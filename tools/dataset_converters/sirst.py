"""SIRST (Dai et al., WACV 2021) from its release to datasets/SIRST.

    python tools/dataset_converters/sirst.py SRC [DST] [--split idx_427]

SRC as downloaded from https://github.com/YimianDai/sirst: the repository
archive (sirst-master.zip, which holds images.zip, masks.zip, idx_427/ and
idx_320/) or its folder (images/ or images.zip, masks/Misc_<n>_pixels0.png or
masks.zip). Splits: idx_427 (default, 341 / 86), idx_320. Also accepted:
DNANet's NUAA-SIRST (images/, masks/, 50_50/: split dnanet_50_50) and
BasicIRSTD's NUAA-SIRST (img_idx/: 213 / 214). The v1 mask of Misc_111 is
drawn at another size than its image: the error says where the corrected
mask is; add --replace-mask Misc_111=Misc_111_pixels0.png.
"""
import sys

from serankdet.cli import run_cli
from serankdet.cli.dataset_converter import converter_main

main = converter_main('sirst', 'SIRST', __doc__)

if __name__ == '__main__':
    sys.exit(run_cli(main))
