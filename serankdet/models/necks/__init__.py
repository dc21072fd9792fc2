from .unet_decoder import UNetDecoder

__all__ = ['UNetDecoder']
