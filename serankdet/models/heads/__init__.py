from .base_irstd_head import BaseIRSTDHead
from .datransnet_head import DATransNetHead
from .irstd_head import IRSTDHead
from .side_fusion_head import SideFusionHead

__all__ = [
    'BaseIRSTDHead', 'DATransNetHead', 'IRSTDHead', 'SideFusionHead'
]
