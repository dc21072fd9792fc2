from .base_irstd_head import BaseIRSTDHead
from .datransnet_head import DATransNetHead
from .fcn_irstd_head import FCNIRSTDHead
from .irstd_head import IRSTDHead
from .sctransnet_head import SCTransNetHead
from .mshnet_head import MSHNetHead
from .side_fusion_head import SideFusionHead

__all__ = [
    'FCNIRSTDHead',
    'SCTransNetHead',
    'MSHNetHead',
    'BaseIRSTDHead', 'DATransNetHead', 'IRSTDHead', 'SideFusionHead'
]
