from .askc_resnet import ASKCResNet
from .dnanet import DNANetEncoder
from .hiera import HieraTrunk
from .mshnet import MSHNetEncoder
from .samspl_encoder import SAMSPLEncoder
from .serankdet_encoder import SeRankDetEncoder
from .uiunet import UIUNetEncoder
from .unet_encoder import UNetEncoder

__all__ = [
    'ASKCResNet',
    'MSHNetEncoder',
    'DNANetEncoder', 'HieraTrunk', 'SAMSPLEncoder', 'SeRankDetEncoder',
    'UNetEncoder', 'UIUNetEncoder'
]
