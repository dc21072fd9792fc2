"""Train a model from a config.

    python tools/train.py CONFIG [--work-dir DIR] [--resume [CKPT]
        [--unsafe-resume]] [--amp] [--cfg-options key=value ...]
    torchrun --nproc_per_node=N tools/train.py CONFIG --launcher pytorch
"""
import argparse
import os.path as osp
import sys

from serankdet.cli import add_common_args, run_cli


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Train an IRSTD model')
    parser.add_argument('config', help='config file')
    parser.add_argument(
        '--resume', nargs='?', const='auto', default=None, metavar='CKPT',
        help='resume from CKPT, or from the newest checkpoint of the work '
        'dir and its run_* folders when no path is given (an error when '
        'those hold checkpoint files but none to resume)')
    parser.add_argument(
        '--unsafe-resume', action='store_true',
        help='with --resume: unpickle the checkpoint fully, which runs any '
        'code it holds. Only for a training state saved by another toolbox '
        "that you trust; this toolbox's own checkpoints resume without it")
    parser.add_argument(
        '--amp', action='store_true',
        help='mixed precision: float16 with loss scaling on a GPU, bfloat16 '
        'autocast on a CPU (faster where the CPU has AVX512-BF16/AMX)')
    add_common_args(parser)
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    # imported after parsing: --help and argument errors answer at once
    from serankdet.cli import (build_runner, check_data_roots, load_config,
                               resume_latest, tidy_if_failed_early,
                               use_fresh_work_dir)
    from serankdet.utils import use_mixed_precision
    cfg = load_config(args)
    if args.amp:
        use_mixed_precision(cfg, training=True)
    if args.unsafe_resume and not args.resume:
        raise ValueError('--unsafe-resume only applies with --resume')
    if args.resume == 'auto' or (not args.resume and cfg.resume
                                 and not cfg.load_from):
        resume_latest(cfg)
    elif args.resume:
        if not osp.isfile(args.resume):
            raise FileNotFoundError(
                f'--resume {args.resume}: no such checkpoint file')
        cfg.resume, cfg.load_from = True, args.resume
    elif not cfg.resume:
        use_fresh_work_dir(cfg)
    cfg.unsafe_resume = args.unsafe_resume
    check_data_roots(cfg, ('train_dataloader', 'val_dataloader'))
    if cfg.get('load_from') and not osp.isfile(cfg.load_from):
        raise FileNotFoundError(
            f'load_from {cfg.load_from}: no such checkpoint file')
    with tidy_if_failed_early(cfg.work_dir):
        runner = build_runner(cfg)
        runner.train()


if __name__ == '__main__':
    sys.exit(run_cli(main))
