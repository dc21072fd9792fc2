"""The ``--amp`` switch of the tools: mixed precision on GPU and CPU.

One flag, the fastest low precision of the device: float16 with loss
scaling on CUDA GPUs (mmengine's ``AmpOptimWrapper``), bfloat16 autocast
without scaling on CPUs (``AutocastOptimWrapper``). Evaluation runs under
autocast through the ``fp16`` flag of mmengine's ``ValLoop``/``TestLoop``,
which picks the same dtypes. Head outputs, losses and metrics stay float32.
"""
import warnings

import torch
from mmengine.config import Config


def _cpu_has_bfloat16() -> bool:
    """Whether oneDNN runs bfloat16 natively here (AVX512-BF16 or AMX)."""
    if not torch.backends.mkldnn.is_available():
        return False
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):  # a torch without this query
        return True


def warn_if_bfloat16_emulated(device_type: str) -> None:
    """Warn when a CPU has no bfloat16 instructions (autocast is slower)."""
    if device_type == 'cpu' and not _cpu_has_bfloat16():
        warnings.warn(
            'this CPU has no AVX512-BF16/AMX bfloat16 support: --amp will be '
            'slower than float32 here; run without --amp.')


def use_mixed_precision(cfg: Config, training: bool) -> None:
    """Switch ``cfg`` to mixed precision for training or for testing."""
    on_gpu = torch.cuda.is_available()
    warn_if_bfloat16_emulated('cuda' if on_gpu else 'cpu')
    if training:
        cfg.optim_wrapper.type = ('AmpOptimWrapper'
                                  if on_gpu else 'AutocastOptimWrapper')
        if on_gpu:
            cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')
        else:
            cfg.optim_wrapper.dtype = 'bfloat16'
    for loop in ('val_cfg', 'test_cfg'):
        if cfg.get(loop):
            cfg[loop].fp16 = True
