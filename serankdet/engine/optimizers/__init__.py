"""Optimizers and optimizer wrappers registered by serankdet."""
from .adan import Adan
from .autocast_optim_wrapper import AutocastOptimWrapper

__all__ = ['Adan', 'AutocastOptimWrapper']
