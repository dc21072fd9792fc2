from .asym_fusion_decoder import AsymFusionDecoder
from .datransnet_decoder import DATransNetDecoder
from .dnanet_decoder import DNANetDecoder
from .lsff_decoder import LSFFDecoder
from .mshnet_decoder import MSHNetDecoder
from .samspl_decoder import SAMSPLDecoder
from .sctransnet_decoder import SCTransNetDecoder
from .uiunet_decoder import UIUNetDecoder
from .unet_decoder import UNetDecoder

__all__ = [
    'AsymFusionDecoder',
    'SCTransNetDecoder',
    'MSHNetDecoder',
    'DATransNetDecoder', 'DNANetDecoder', 'LSFFDecoder', 'SAMSPLDecoder',
    'UNetDecoder', 'UIUNetDecoder'
]
