"""Optimizers registered in serankdet's OPTIMIZERS registry."""
from .adan import Adan

__all__ = ['Adan']
