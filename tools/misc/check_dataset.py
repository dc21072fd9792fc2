"""Check a whole dataset once and report every problem together.

    python tools/misc/check_dataset.py DATASET_ROOT
    python tools/misc/check_dataset.py CONFIG [--cfg-options key=value ...]

A root is ``<root>/{trainval,test}/{images,masks}`` (or
``<root>/{images,masks}``); a config is checked through the datasets of its
dataloaders. Prints pair counts, empty masks, sizes, pixel formats (bit depth
and PIL mode of images and masks) and the problems found: unreadable files
(every file is decoded entirely, as the loaders do, so corrupt and truncated
files are found), missing masks, masks without image, size mismatches,
non-binary masks and names present in several splits. Exit status: 0 clean,
1 problems found, 2 bad arguments.
"""
import argparse
import os.path as osp
import sys

from mmengine.config import Config, DictAction

from serankdet.cli import run_cli
from serankdet.datasets.check import (check_dataset, config_splits,
                                      layout_splits)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Check an IRSTD dataset')
    parser.add_argument('target', help='dataset root or config file')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config keys (config only)')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    if osp.isfile(args.target):
        cfg = Config.fromfile(args.target)
        if args.cfg_options:
            cfg.merge_from_dict(args.cfg_options)
        splits = config_splits(cfg)
    else:
        splits = layout_splits(args.target)
    for split in splits:
        print(f'{split.name}: {split.img_dir} + {split.mask_dir}')
    report = check_dataset(splits)
    print(report.format())
    if report.errors:
        sys.exit(1)


if __name__ == '__main__':
    sys.exit(run_cli(main))
