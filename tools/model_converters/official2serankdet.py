"""Convert an official reference checkpoint into a serankdet checkpoint.

Usage:
    python tools/model_converters/official2serankdet.py --model NAME SRC DST
"""
import argparse
import sys

from serankdet.apis.conversion import convert_checkpoint
from serankdet.cli import run_cli
from serankdet.models.converters import converter_names


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--model', required=True, choices=converter_names(),
                        help='which reference model the checkpoint is from')
    parser.add_argument('--config', default=None,
                        help='config of the target variant: a path, or a '
                        'configs/... path shipped with the package (default: '
                        "the converter's paper config)")
    parser.add_argument('src', help='official checkpoint (.pth/.pth.tar/.pt)')
    parser.add_argument('dst', help='output serankdet checkpoint')
    args = parser.parse_args(argv)
    notes = convert_checkpoint(args.model, args.src, args.dst, args.config)
    for note in notes:
        print(f'note: {note}')
    print(f'wrote {args.dst}')
    return 0


if __name__ == '__main__':
    sys.exit(run_cli(main))
