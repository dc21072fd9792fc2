"""Train a model from a config.

    python tools/train.py CONFIG [--work-dir DIR] [--resume [CKPT]
        [--unsafe-resume]] [--amp] [--auto-scale-lr] [--sync-bn]
        [--tensorboard] [--cfg-options key=value ...]
    torchrun --nproc_per_node=N tools/train.py CONFIG --launcher pytorch

One training at a time per work dir (a second one stops before it writes
anything); Ctrl-C ends a training with one line giving the iteration and the
command that resumes it (exit status 130).
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
    parser.add_argument(
        '--auto-scale-lr', action='store_true',
        help='scale the learning rate linearly to the total batch of the run '
        '(processes x train_dataloader.batch_size) from the one the config '
        'sets it for (auto_scale_lr.base_batch_size); the log states the '
        'scaled rate')
    parser.add_argument(
        '--sync-bn', action='store_true',
        help="distributed training on CUDA GPUs: every BatchNorm becomes "
        "torch's SyncBatchNorm (statistics over the total batch, not each "
        "GPU's); refused without CUDA")
    parser.add_argument(
        '--tensorboard', action='store_true',
        help='also write the logged scalars as TensorBoard events '
        '(<work_dir>/<timestamp>/vis_data/events.out.tfevents.*)')
    add_common_args(parser)
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    # imported after parsing: --help and argument errors answer at once
    from serankdet.cli import (build_runner, check_data_roots, is_rank_zero,
                               load_config, lock_work_dir, resume_latest,
                               tidy_if_failed_early, use_auto_scale_lr,
                               use_fresh_work_dir, use_tensorboard)
    from serankdet.utils import use_mixed_precision
    cfg = load_config(args)
    if args.amp:
        use_mixed_precision(cfg, training=True)
    if args.auto_scale_lr:
        use_auto_scale_lr(cfg)
    if args.sync_bn:
        cfg.sync_bn = 'torch'  # converted by the runner under DDP
    if args.unsafe_resume and not args.resume:
        raise ValueError('--unsafe-resume only applies with --resume')
    if args.tensorboard:
        use_tensorboard(cfg)
    work_dir = cfg.work_dir
    with lock_work_dir(work_dir):
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
            try:
                runner.train()
            except KeyboardInterrupt:
                if is_rank_zero():
                    # the iteration in progress (runner.iter: completed)
                    print(f'interrupted at iteration {runner.iter + 1}; '
                          f'resume with: python tools/train.py {args.config} '
                          f'--work-dir {work_dir} --resume', file=sys.stderr)
                return 130


if __name__ == '__main__':
    sys.exit(run_cli(main))
