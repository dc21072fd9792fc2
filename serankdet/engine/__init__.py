from .hooks import NonFiniteLossHook, RNGStateHook  # noqa: F401
from .model_wrappers import CPUDistributedDataParallel
from .runner import IRSTDRunner
from .optimizers import Adan, AutocastOptimWrapper  # noqa: F401

__all__ = ['CPUDistributedDataParallel', 'IRSTDRunner']
