"""The command line of ``tools/dataset_converters/<dataset>.py``: one
converter per dataset, all with the same arguments.

Nothing heavy is imported before the arguments are parsed, so ``--help``
answers at once.
"""
import argparse
import glob
import os
import os.path as osp
import re
from typing import Callable, Dict, List, Optional

#: The checkout holding the configs.
REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def _replacement(text: str):
    stem, sep, path = text.partition('=')
    if not sep or not stem or not path:
        raise argparse.ArgumentTypeError(
            f'expected STEM=FILE (e.g. Misc_111=Misc_111_pixels0.png), got '
            f'{text!r}')
    return stem, path


def parse_args(name: str, description: str,
               argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=description,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        'src', metavar='SRC',
        help='the release as downloaded: an archive (.zip, .tar[.gz]) or '
        'the folder it was extracted to')
    parser.add_argument(
        'dst', metavar='DST', nargs='?', default=osp.join('datasets', name),
        help=f'folder to create (default: datasets/{name} in the working '
        'directory, where the dataset config looks when you train from the '
        'repository root); must be absent, empty or an earlier conversion '
        'of this dataset')
    parser.add_argument(
        '--split', help="the release's split to follow (default: the one "
        'the dataset config describes; an unknown name lists the choices)')
    parser.add_argument(
        '--split-dir', help='folder holding the split files, for releases '
        "without them (SAM-SPL's dataset/set_configs/<NAME>)")
    parser.add_argument(
        '--copy', action='store_true',
        help='copy the files (default: hard links, no extra space; a copy '
        'where the file system cannot link)')
    parser.add_argument(
        '--replace-mask', metavar='STEM=FILE', type=_replacement,
        action='append', default=[],
        help='use FILE as the mask of STEM (a corrected mask); repeatable')
    # options may come between SRC and DST
    return parser.parse_intermixed_args(argv)


def experiment_configs(spec) -> List[str]:
    """Experiment configs (``configs/<algorithm>/*.py``) that use the
    dataset of ``spec``: they inherit its dataset config, directly or
    through other configs, or set a data root to its folder
    (``'datasets/<name>'``). Read as text (quoted ``.py`` paths resolved
    from each file's folder), so that listing them builds no config."""
    texts = {}
    for path in glob.glob(osp.join(REPO_ROOT, 'configs', '**', '*.py'),
                          recursive=True):
        with open(path, encoding='utf-8') as handle:
            texts[osp.realpath(path)] = handle.read()
    own_root = re.compile(r"""['"]datasets/{}/?['"]""".format(
        re.escape(spec.name)))
    other_root = re.compile(r"""data_root\s*=\s*['"]datasets/""")
    elsewhere = {path for path, text in texts.items()
                 if other_root.search(text) and not own_root.search(text)}
    users = {osp.realpath(osp.join(REPO_ROOT, spec.config))}
    users.update(path for path, text in texts.items()
                 if own_root.search(text))
    references = {
        path: {osp.realpath(osp.join(osp.dirname(path), ref))
               for ref in re.findall(r"""['"]([^'"\s]+\.py)['"]""", text)}
        for path, text in texts.items()}
    grown = True
    while grown:
        new = {path for path, refs in references.items()
               if path not in users | elsewhere and refs & users}
        users |= new
        grown = bool(new)
    base = osp.join(osp.realpath(REPO_ROOT), 'configs', '_base_')
    return sorted(osp.relpath(path, osp.realpath(REPO_ROOT))
                  for path in users
                  if not path.startswith(base + os.sep)
                  and osp.dirname(osp.dirname(path)) == osp.dirname(base))


def next_steps(spec, dst: str) -> str:
    """How to check and train on the converted dataset: the dataset config,
    the experiment configs using it and, where ``dst`` is not the config's
    data root, the overrides that point the three dataloaders at it. The
    commands are run from the repository root (said where the converter ran
    elsewhere); ``dst`` is given as an absolute path."""
    root = osp.abspath(dst)
    lines = [] if osp.realpath(os.getcwd()) == osp.realpath(REPO_ROOT) else [
        f'run these from {REPO_ROOT}:']
    lines += [f'check: python tools/misc/check_dataset.py {root}',
              f'dataset config: {spec.config}']
    # data_root is relative to the working directory (the repository root)
    expected = osp.join(REPO_ROOT, 'datasets', spec.name)
    overrides = ''
    if osp.realpath(dst) != osp.realpath(expected):
        overrides = ' --cfg-options ' + ' '.join(
            f'{loader}_dataloader.dataset.data_root={root}'
            for loader in ('train', 'val', 'test'))
    configs = experiment_configs(spec)
    if configs:
        lines.append(f'train: python tools/train.py {configs[0]}{overrides}')
        lines += [f'       (also: {path})' for path in configs[1:]]
    else:
        lines.append(f'train: no experiment config uses {spec.config} yet: '
                     'inherit it in one (configs/README.md), then python '
                     f'tools/train.py CONFIG{overrides}')
    return '\n'.join(lines)


def converter_main(dataset: str, name: str,
                   description: str) -> Callable[[Optional[List[str]]],
                                                 None]:
    """The ``main(argv)`` of the converter of ``dataset`` (a key of
    :data:`serankdet.datasets.releases.DATASET_RELEASES`; ``name`` is its
    folder name, ``description`` the tool's help text)."""

    def main(argv: Optional[List[str]] = None) -> None:
        args = parse_args(name, description, argv)
        from serankdet.datasets.releases import (DATASET_RELEASES,
                                                 convert_release)
        replacements: Dict[str, str] = dict(args.replace_mask)
        report = convert_release(dataset, args.src, args.dst,
                                 split=args.split, copy=args.copy,
                                 split_dir=args.split_dir,
                                 replace_masks=replacements)
        print(report.format())
        print(next_steps(DATASET_RELEASES[dataset], args.dst))

    return main
