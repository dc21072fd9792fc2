from .base_irstd_head import BaseIRSTDHead
from .irstd_head import IRSTDHead

__all__ = ['BaseIRSTDHead', 'IRSTDHead']
