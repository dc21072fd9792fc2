"""Reusable building blocks of the models."""
from .conv_bn_relu import conv_bn_relu
from .ddc_block import DDCBlock
from .difference_conv import CentralDifferenceConv2d
from .gfem import GFEM, SubsampledNonLocal2d  # noqa: F401
from .gradient_attention import GradientAttention  # noqa: F401
from .lsff import LSFF
from .serank_attention import SeRankAttention, sinusoid_table

__all__ = [
    'conv_bn_relu', 'DDCBlock', 'CentralDifferenceConv2d', 'LSFF',
    'SeRankAttention', 'sinusoid_table'
]
