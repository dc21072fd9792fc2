from .base_irstd_head import BaseIRSTDHead
from .datransnet_head import DATransNetHead
from .irstd_head import IRSTDHead

__all__ = [
    'BaseIRSTDHead', 'DATransNetHead', 'IRSTDHead'
]
