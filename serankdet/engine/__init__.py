from .hooks import (AtomicCheckpointHook, NonFiniteLossHook,  # noqa: F401
                    RNGStateHook)
from .model_wrappers import CPUDistributedDataParallel
from .resume import ResumeError, find_resume_checkpoint
from .runner import IRSTDRunner
from .optimizers import Adan, AutocastOptimWrapper  # noqa: F401

__all__ = ['CPUDistributedDataParallel', 'IRSTDRunner', 'ResumeError',
           'find_resume_checkpoint']
