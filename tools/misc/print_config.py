"""Print a config as the tools build it.

    python tools/misc/print_config.py CONFIG [--cfg-options key=value ...]
        [--save PATH]

The bases merged, the variables substituted and the ``--cfg-options``
applied, then checked as ``tools/train.py`` checks it (unknown types,
misspelled keys): what a run of CONFIG with these options is given. Prints
the config; ``--save`` also writes it (a config file that loads on its own,
like the one a run writes into its work dir).
"""
import argparse
import sys

from serankdet.cli import CfgOptionsAction, run_cli


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Print the whole config, as built')
    parser.add_argument('config', help='config file')
    parser.add_argument('--cfg-options', nargs='+', action=CfgOptionsAction,
                        help='override config keys, as the tools do')
    parser.add_argument('--save', metavar='PATH',
                        help='also write the built config to PATH (.py)')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    from serankdet.cli import check_config, read_config_with_options
    cfg = read_config_with_options(args.config, args.cfg_options)
    check_config(cfg)
    print(cfg.pretty_text)
    if args.save:
        cfg.dump(args.save)
    return 0


if __name__ == '__main__':
    sys.exit(run_cli(main))
