"""SAM-SPL (fuyimin96/SAM-SPL) checkpoints -> serankdet.

The reference training script saves ``{"model_state_dict": ...}`` wrapped
with optimizer state; its testing script and the released weights are bare
state dicts: :func:`extract_state_dict` accepts both. Keys are the bare
``SamAdaptor`` names (``image_encoder.*``, ``up_decoders.*``, ...).
"""
from serankdet.registry import CONVERTERS

from .base import RuleConverter

# (reference pattern, our key template), first match wins.
_RULES = [
    (r'image_encoder\.inc0\.(\d+)\.(\d+)\.sa\.conv1\.(.*)',
     r'backbone.stem.\1.\2.sa.conv.\3'),
    (r'image_encoder\.inc0\.(.*)', r'backbone.stem.\1'),
    (r'image_encoder\.incs\.(\d+)\.0\.sa\.conv1\.(.*)',
     r'backbone.down_blocks.\1.sa.conv.\2'),
    (r'image_encoder\.incs\.(\d+)\.0\.(.*)', r'backbone.down_blocks.\1.\2'),
    (r'image_encoder\.trunk\.promote_genertor\.blocks\.(\d+)\.blk\.(.*)',
     r'backbone.consult_generators.\1.\2'),
    (r'image_encoder\.trunk\.(?!promote_genertor)(.*)', r'backbone.trunk.\1'),
    (r'image_pe_encoder\.proj_blocks\.(\d+)\.(\d+)\.conv\.(.*)',
     r'neck.prompt_generator.branches.\1.\2.0.\3'),
    (r'image_pe_encoder\.proj_blocks\.(\d+)\.(\d+)\.bn\.(.*)',
     r'neck.prompt_generator.branches.\1.\2.1.\3'),
    (r'image_pe_encoder\.proj_blocks\.(.*)',
     r'neck.prompt_generator.branches.\1'),
    (r'image_pe_encoder\.proj\.0\.(.*)', r'neck.prompt_generator.fuse.\1'),
    (r'deep_conv_block\.(.*)', r'neck.latent_proj.\1'),
    (r'mask_token\.(.*)', r'neck.mask_token.\1'),
    (r'decoder_transformer\.(.*)', r'neck.transformer.\1'),
    (r'output_upscaling\.(.*)', r'neck.upscale.\1'),
    (r'output_hypernetworks_mlp\.(.*)', r'neck.hyper_mlp.\1'),
    (r'proj_block\.(.*)', r'neck.down_proj.\1'),
    (r'skip_convs\.(\d+)\.0\.fc\.0\.(.*)', r'neck.skip_convs.\1.0.fc1.\2'),
    (r'skip_convs\.(\d+)\.0\.fc\.2\.(.*)', r'neck.skip_convs.\1.0.fc2.\2'),
    (r'skip_convs\.(.*)', r'neck.skip_convs.\1'),
    (r'up_decoders\.(\d+)\.cross_att\.se_input_att\.fc\.1\.(.*)',
     r'neck.up_blocks.\1.deep_calib.\2'),
    (r'up_decoders\.(\d+)\.cross_att\.se_skip_att\.fc\.1\.(.*)',
     r'neck.up_blocks.\1.skip_calib.\2'),
    (r'up_decoders\.(\d+)\.nConvs\.(\d+)\.conv\.(.*)',
     r'neck.up_blocks.\1.fuse.\2.0.\3'),
    (r'up_decoders\.(\d+)\.nConvs\.(\d+)\.norm\.(.*)',
     r'neck.up_blocks.\1.fuse.\2.1.\3'),
    # outputs are finest first in both; the reference lists its 1x1
    # reduction convs coarsest first
    (r'reduction_convs\.2\.(.*)', r'decode_head.main_conv.\1'),
    (r'reduction_convs\.1\.(.*)', r'decode_head.side_convs.0.\1'),
    (r'reduction_convs\.0\.(.*)', r'decode_head.side_convs.1.\1'),
]


@CONVERTERS.register_module(name='samspl')
class SAMSPLConverter(RuleConverter):
    """``--model samspl``: SAM-SPL-t."""
    config = 'configs/_base_/models/samspl.py'
    rules = _RULES
    dropped = {
        'image_encoder.trunk.promote_genertor.patchEmded.':
        'the reference builds a patch embedding it never uses',
    }


map_samspl_key = SAMSPLConverter().map_key
