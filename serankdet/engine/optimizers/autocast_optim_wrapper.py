"""Mixed-precision training without loss scaling (bfloat16 autocast)."""
from contextlib import contextmanager
from typing import Union

import torch
import torch.nn as nn
from mmengine.optim import OptimWrapper
from mmengine.runner.amp import autocast

from serankdet.registry import OPTIM_WRAPPERS


@OPTIM_WRAPPERS.register_module()
class AutocastOptimWrapper(OptimWrapper):
    """Run the forward pass and the loss under ``torch.autocast``.

    mmengine's ``AmpOptimWrapper`` is float16 with a gradient scaler and
    needs a GPU. bfloat16 keeps float32's exponent range, so gradients
    neither underflow nor overflow and no scaler is needed; that makes this
    wrapper work on CPUs (oneDNN runs bfloat16 convolutions and matrix
    products with AVX512-BF16/AMX) and on GPUs that support bfloat16. The
    parameters, gradients and optimizer state stay float32; only the
    operations autocast lists (convolutions, linear layers, matmuls) run in
    the lower precision. ``tools/train.py --amp`` selects this wrapper on
    CPU.

    Config: ``optim_wrapper=dict(type='AutocastOptimWrapper',
    dtype='bfloat16', optimizer=...)``.

    Args:
        dtype (str | torch.dtype): autocast dtype, ``'bfloat16'`` (default)
            or ``'float16'`` (GPU only; prefer ``AmpOptimWrapper``, whose
            scaler float16 gradients need).
        **kwargs: arguments of :class:`mmengine.optim.OptimWrapper`.
    """

    def __init__(self, dtype: Union[str, torch.dtype] = 'bfloat16',
                 **kwargs):
        super().__init__(**kwargs)
        if isinstance(dtype, str):
            if dtype not in ('bfloat16', 'float16'):
                raise ValueError(
                    f"AutocastOptimWrapper: dtype must be 'bfloat16' or "
                    f"'float16', got {dtype!r}")
            dtype = getattr(torch, dtype)
        if dtype == torch.float16 and not torch.cuda.is_available():
            raise ValueError(
                "AutocastOptimWrapper: dtype='float16' needs a CUDA GPU; CPU "
                "autocast supports only dtype='bfloat16'")
        self.cast_dtype = dtype

    @contextmanager
    def optim_context(self, model: nn.Module):
        with super().optim_context(model), autocast(dtype=self.cast_dtype):
            yield
