from .model_wrappers import CPUDistributedDataParallel
from .runner import IRSTDRunner

__all__ = ['CPUDistributedDataParallel', 'IRSTDRunner']
