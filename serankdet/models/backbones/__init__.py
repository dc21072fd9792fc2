from .unet_encoder import UNetEncoder
from .serankdet_encoder import SeRankDetEncoder  # noqa: F401

__all__ = ['UNetEncoder']
