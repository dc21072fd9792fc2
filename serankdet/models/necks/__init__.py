from .unet_decoder import UNetDecoder
from .datransnet_decoder import DATransNetDecoder  # noqa: F401
from .lsff_decoder import LSFFDecoder  # noqa: F401
from .samspl_decoder import SAMSPLDecoder  # noqa: F401

__all__ = ['UNetDecoder']
