"""Compatibility fixes the pinned OpenMMLab stack needs on current PyTorch.

Nothing here runs at import time; each fix is applied where it is needed,
does nothing where it is not, and is listed with what it works around:

1. :func:`mmcv_ops_importable` -- mmcv-lite (the mmcv 2.x wheel without
   compiled ops, the only mmcv 2.1.0 that installs on Python 3.11+/torch 2.x
   without building) has no ``mmcv._ext``, but mmseg 1.2.2's ``datasets``
   and ``models`` packages import ``mmcv.ops`` at module level, which
   fails with "No module named 'mmcv._ext'" (open-mmlab/mmsegmentation#871,
   #3563; mmseg 1.x with mmcv-lite 2.0-2.1, any torch). While
   ``serankdet.datasets`` and ``serankdet.models`` import mmseg, a stand-in
   ``mmcv._ext`` (whose ops raise only when called) sits in ``sys.modules``;
   it is removed again afterwards, so nothing else sees it and mmengine's
   ``mmcv_full_available()`` stays truthful. No serankdet model uses a
   compiled op. Skipped when a real ``mmcv._ext`` imports (full mmcv).
2. :func:`patch_cpu_distributed` -- mmengine (0.7 to 0.10.7) starts the
   PyTorch launcher with ``torch.cuda.set_device(rank % num_gpus)`` and
   wraps the model with ``device_ids=[LOCAL_RANK]`` (``mmengine/dist/
   utils.py``, ``Runner.wrap_model``; see open-mmlab/mmengine#973); both
   fail on a CPU-only torch. Applied by the
   tools only for a distributed launch on a machine without CUDA: gloo, a
   no-op ``set_device`` and :class:`CPUDistributedDataParallel`.

Loading checkpoints is not patched into mmengine: torch >= 2.6 loads with
``weights_only=True`` and refuses mmengine's checkpoints, so the toolbox's
Runner (:class:`~serankdet.engine.IRSTDRunner`) and tools load every file
through :func:`serankdet.utils.load_checkpoint_file` themselves.
"""
import contextlib
import importlib
import importlib.machinery
import sys
import types

import torch

_STUB_MESSAGE = ('mmcv compiled op "{name}" is not available: mmcv-lite is '
                 'installed. No serankdet model needs compiled ops; install '
                 'full mmcv (see README, "GPU users") to use this one.')


def _has_compiled_mmcv_ops() -> bool:
    try:
        importlib.import_module('mmcv._ext')
        return True
    except ImportError:
        return False


def _mmcv_ext_stub() -> types.ModuleType:
    """A module standing in for ``mmcv._ext``: every op raises when called.
    It has a module spec because ``importlib.util.find_spec`` (used by
    mmengine) refuses a ``sys.modules`` entry without one."""
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
    return stub


@contextlib.contextmanager
def mmcv_ops_importable():
    """Let mmseg's ``datasets``/``models`` import ``mmcv.ops`` under
    mmcv-lite (fix 1); the stand-in is gone again after the block."""
    if 'mmcv._ext' in sys.modules or 'mmcv.ops' in sys.modules \
            or _has_compiled_mmcv_ops():
        yield
        return
    sys.modules['mmcv._ext'] = _mmcv_ext_stub()
    try:
        yield
    finally:
        del sys.modules['mmcv._ext']


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
