"""Reusable building blocks of the models."""
from .asym_bi_cha_fuse import AsymBiChaFuse
from .basic_res_layer import basic_res_layer
from .cbam import ChannelAttention, SpatialAttention
from .conv_bn_relu import conv_bn_relu, conv_bn_relu_stack
from .ddc_block import DDCBlock
from .difference_conv import CentralDifferenceConv2d
from .gfem import GFEM, SubsampledNonLocal2d
from .gradient_attention import GradientAttention
from .interactive_cross_attention import InteractiveCrossAttention
from .layer_norm2d import LayerNorm2d
from .lsff import LSFF
from .residual_block import ResidualBlock, residual_cbam_stage
from .rsu_block import RSUBlock
from .samspl_blocks import (ChannelGate, MutualCalibrationUpBlock,
                            SelfPromptGenerator)
from .serank_attention import SeRankAttention, sinusoid_table
from .spatial_channel_transformer import SpatialChannelCrossTransformer
from .transposed_attention import transposed_attention
from .two_way_transformer import TwoWayTransformer
from .weights_only_init import WeightsOnlyInit

__all__ = [
    'AsymBiChaFuse', 'basic_res_layer',
    'SpatialChannelCrossTransformer', 'LayerNorm2d', 'transposed_attention',
    'conv_bn_relu', 'conv_bn_relu_stack', 'DDCBlock',
    'CentralDifferenceConv2d', 'GFEM',
    'SubsampledNonLocal2d', 'GradientAttention', 'LSFF', 'ChannelGate',
    'MutualCalibrationUpBlock', 'ResidualBlock', 'residual_cbam_stage',
    'SelfPromptGenerator',
    'ChannelAttention', 'SpatialAttention',
    'SeRankAttention', 'sinusoid_table', 'TwoWayTransformer',
    'InteractiveCrossAttention', 'RSUBlock', 'WeightsOnlyInit'
]
