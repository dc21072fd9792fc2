"""The four compatibility fixes the pinned OpenMMLab stack needs on current PyTorch.

Each fix lives here and nowhere else, is idempotent and does nothing where it
is not needed (see ``docs``/README "Compatibility notes"):

1. :func:`install_mmcv_ext_stub` -- mmcv-lite has no compiled ``mmcv._ext``
   but mmseg 1.2.2 imports ``mmcv.ops`` at module level. We register a
   stand-in module (with a module spec, which mmengine's
   ``mmcv_full_available`` needs) whose ops raise only when called. Skipped
   when a real ``mmcv._ext`` imports (full mmcv installed).
2. :func:`register_checkpoint_loader` -- torch >= 2.6 loads with
   ``weights_only=True`` by default and refuses mmengine checkpoints. We load
   with ``weights_only=True`` plus an allowlist of what our files hold
   (:mod:`serankdet.utils.checkpoint`); full unpickling only happens to resume
   the toolbox's own runs.
3. :func:`patch_cpu_distributed` -- mmengine's PyTorch launcher calls
   ``torch.cuda.set_device`` and wraps models with ``device_ids``; both fail on
   a CPU-only torch. Without CUDA we make ``set_device`` a no-op and the
   launcher config uses gloo and :class:`CPUDistributedDataParallel`.
4. :func:`add_launcher_args` -- ``torch.distributed.launch`` passes
   ``--local-rank`` (torch >= 2.0) while older scripts pass ``--local_rank``;
   torchrun passes neither and sets ``LOCAL_RANK``. Tools accept all three.
"""
import argparse
import importlib
import importlib.machinery
import os
import sys
import types

import torch

_STUB_MESSAGE = ('mmcv compiled op "{name}" is not available: mmcv-lite is '
                 'installed. No serankdet model needs compiled ops; install '
                 'full mmcv (see README, "GPU users") to use this one.')


def install_mmcv_ext_stub() -> bool:
    """Register a stand-in ``mmcv._ext`` when mmcv-lite is installed.

    Returns:
        bool: True if the stub was installed, False if a real ``mmcv._ext``
        (or an earlier stub) is present.
    """
    if 'mmcv._ext' in sys.modules:
        return False
    try:
        importlib.import_module('mmcv._ext')
        return False
    except ImportError:
        pass

    stub = types.ModuleType('mmcv._ext')
    stub.__spec__ = importlib.machinery.ModuleSpec('mmcv._ext', None)
    stub.__serankdet_stub__ = True

    def _missing_op(name):
        if name.startswith('__'):
            raise AttributeError(name)

        def raise_missing(*args, **kwargs):
            raise RuntimeError(_STUB_MESSAGE.format(name=name))

        return raise_missing

    stub.__getattr__ = _missing_op
    sys.modules['mmcv._ext'] = stub
    return True


def register_checkpoint_loader() -> None:
    """Make mmengine load local checkpoints through the safe loader."""
    from mmengine.runner.checkpoint import CheckpointLoader

    from .checkpoint import load_checkpoint_file

    CheckpointLoader.register_scheme(
        prefixes='', loader=load_checkpoint_file, force=True)


def _no_cuda_set_device(device) -> None:
    """Stand-in for ``torch.cuda.set_device`` on a CPU-only torch."""


def patch_cpu_distributed(cfg=None):
    """Adapt distributed launching to a machine without CUDA.

    Args:
        cfg (Config, optional): a training/test config. When given and CUDA
            is unavailable, its ``env_cfg.dist_cfg`` is set to gloo and its
            ``model_wrapper_cfg`` to :class:`CPUDistributedDataParallel`.

    Returns:
        The (possibly modified) config.
    """
    if torch.cuda.is_available():
        return cfg
    torch.cuda.set_device = _no_cuda_set_device
    if cfg is not None:
        cfg.setdefault('env_cfg', {})
        cfg.env_cfg['dist_cfg'] = dict(backend='gloo')
        wrapper = dict(cfg.get('model_wrapper_cfg') or {})
        wrapper['type'] = 'CPUDistributedDataParallel'
        cfg.model_wrapper_cfg = wrapper
    return cfg


def add_launcher_args(parser: argparse.ArgumentParser) -> None:
    """Add ``--launcher`` and the local-rank flags of every PyTorch launcher.

    ``torch.distributed.launch`` passes ``--local-rank=N`` (or
    ``--local_rank=N`` before torch 2.0); the value is exported as
    ``LOCAL_RANK`` by :func:`export_local_rank` unless torchrun already set it.
    """
    parser.add_argument(
        '--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none', help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0,
                        help=argparse.SUPPRESS)


def export_local_rank(args: argparse.Namespace) -> None:
    """Export the parsed local rank unless the launcher set ``LOCAL_RANK``."""
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))


def apply_all() -> None:
    """Apply the import-time fixes (1 and 2) and the CUDA-less patch (3)."""
    install_mmcv_ext_stub()
    register_checkpoint_loader()
    patch_cpu_distributed()
