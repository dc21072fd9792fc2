from .base_irstd_head import BaseIRSTDHead
from .irstd_head import IRSTDHead
from .datransnet_head import DATransNetHead  # noqa: F401

__all__ = ['BaseIRSTDHead', 'IRSTDHead']
