from .unet_encoder import UNetEncoder
from .datransnet_encoder import DATransNetEncoder  # noqa: F401
from .serankdet_encoder import SeRankDetEncoder  # noqa: F401
from .hiera import HieraTrunk  # noqa: F401
from .samspl_encoder import SAMSPLEncoder  # noqa: F401

__all__ = ['UNetEncoder']
