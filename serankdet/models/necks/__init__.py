from .unet_decoder import UNetDecoder
from .lsff_decoder import LSFFDecoder  # noqa: F401

__all__ = ['UNetDecoder']
