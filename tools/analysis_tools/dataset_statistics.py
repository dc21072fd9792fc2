"""Gray-level statistics of a dataset's frames, for its dataset config.

    python tools/analysis_tools/dataset_statistics.py DATASET_ROOT
    python tools/analysis_tools/dataset_statistics.py CONFIG
        [--cfg-options key=value ...]

BasicIRSTD's definition (``utils.get_img_norm_cfg``), which the configs'
``img_norm_cfg`` follow: over every frame the dataset holds (all splits of
a root, ``<root>/{trainval,test}/images``; or every dataset a config's
dataloaders read, each frame once), the mean of the frames' mean gray levels
and the mean of their standard deviations, on the 0-255 scale (frames of
another bit depth are scaled to it). Frames are read as the loaders read
them (colour as BT.601 luma). Prints the line for the dataset's file under
``configs/_base_/datasets/``.
"""
import argparse
import os
import os.path as osp
import sys

from serankdet.cli import CfgOptionsAction, run_cli


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Gray-level mean and std of a dataset\'s frames')
    parser.add_argument('target', help='dataset root or config file')
    parser.add_argument('--cfg-options', nargs='+', action=CfgOptionsAction,
                        help='override config keys (config only)')
    return parser.parse_args(argv)


def frame_paths(splits) -> list:
    """Every image file of ``splits`` (split files respected), each once."""
    from serankdet.datasets import IMG_EXTENSIONS
    paths = []
    for split in splits:
        names = sorted(name for name in os.listdir(split.img_dir)
                       if osp.splitext(name)[1].lower() in IMG_EXTENSIONS)
        if split.stems is not None:
            listed = set(split.stems)
            names = [n for n in names if osp.splitext(n)[0] in listed]
        paths += [osp.join(split.img_dir, name) for name in names]
    return list(dict.fromkeys(paths))


def gray_statistics(paths) -> dict:
    """``dict(mean, std)`` of the frames at ``paths`` (0-255 scale)."""
    import numpy as np

    from serankdet.datasets.image_io import imread_gray, max_value_of
    means, stds = [], []
    for path in paths:
        frame = imread_gray(path)
        frame = frame.astype(np.float64) * (255.0 / max_value_of(frame.dtype))
        means.append(frame.mean())
        stds.append(frame.std())
    return dict(mean=float(np.mean(means)), std=float(np.mean(stds)))


def main(argv=None) -> int:
    args = parse_args(argv)
    from serankdet.datasets.check import config_splits, layout_splits
    if osp.isfile(args.target):
        from serankdet.cli import read_config_with_options
        splits = config_splits(
            read_config_with_options(args.target, args.cfg_options))
    else:
        splits = layout_splits(args.target)
    paths = frame_paths(splits)
    if not paths:
        raise FileNotFoundError(f'{args.target}: no frames found')
    stats = gray_statistics(paths)
    print(f'{len(paths)} frames\n'
          f'img_norm_cfg = dict(mean={stats["mean"]!r}, std={stats["std"]!r})')
    return 0


if __name__ == '__main__':
    sys.exit(run_cli(main))
