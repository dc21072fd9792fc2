"""Config handling shared by tools/train.py and tools/test.py."""
import os.path as osp

from mmengine.config import Config, DictAction

from serankdet.registry import RUNNERS
from serankdet.utils import (add_launcher_args, export_local_rank,
                             patch_cpu_distributed, register_all_modules)


def add_common_args(parser):
    """Arguments every entry point takes: work dir, overrides, launcher."""
    parser.add_argument('--work-dir', help='folder for logs and results')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='override config keys, e.g. train_dataloader.batch_size=2 '
        'model.backbone.base_channels=8')
    add_launcher_args(parser)


def load_config(args) -> Config:
    """Read ``args.config``, apply overrides, work dir and launcher."""
    if not osp.isfile(args.config):
        raise FileNotFoundError(
            f'config file "{args.config}" does not exist; configs live in '
            'configs/<algorithm>/')
    export_local_rank(args)
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    cfg.launcher = args.launcher
    if args.work_dir:
        cfg.work_dir = args.work_dir
    elif not cfg.get('work_dir'):
        stem = osp.splitext(osp.basename(args.config))[0]
        cfg.work_dir = osp.join('work_dirs', stem)
    if args.launcher != 'none':
        patch_cpu_distributed(cfg)
    return cfg


def build_runner(cfg: Config):
    """Build the config's runner (``runner_type``, default IRSTDRunner)."""
    register_all_modules()
    cfg.setdefault('runner_type', 'IRSTDRunner')
    return RUNNERS.build(cfg)
