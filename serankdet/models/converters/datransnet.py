"""Official DATransNet checkpoints (greekinRoma/DATransNet) -> serankdet.

The official ``train.py`` saves ``{epoch, state_dict, total_loss}`` where the
state dict belongs to a wrapper holding the network as ``.model``, so keys
read ``model.inc.0.conv1.weight``; bare ``DATransNet`` keys (without
``model.``) are accepted too. ``encoder5`` and ``decoder5`` are built by the
reference but never used in its forward; they are not part of our model and
are dropped with a note.
"""
from serankdet.registry import CONVERTERS

from .base import RuleConverter, renumber

UNUSED = ('built by the reference but never used in its forward '
          '(encoder5/decoder5); not part of the model')

# (reference key after the optional "model." prefix, our key)
RULES = [
    (r'inc\.0\.(.+)', r'backbone.stages.0.\1'),
    (r'encoder([1-4])\.0\.(.+)', r'backbone.stages.\1.\2'),
    (r'contras([1-4])\.(.+)', renumber(r'neck.skip_attentions.{}.\2')),
    (r'GFEM\.sp\.theta\.(.+)', r'neck.bottleneck.non_local.theta.\1'),
    (r'GFEM\.sp\.phi\.0\.(.+)', r'neck.bottleneck.non_local.phi.\1'),
    (r'GFEM\.sp\.g\.0\.(.+)', r'neck.bottleneck.non_local.g.\1'),
    (r'GFEM\.sp\.W\.(.+)', r'neck.bottleneck.non_local.out_proj.\1'),
    (r'GFEM\.ca\.fc1\.(.+)', r'neck.bottleneck.channel_gate.\1'),
    (r'GFEM\.tra_conv_1\.(.+)', r'neck.bottleneck.local_conv.\1'),
    (r'GFEM\.tra_conv_2\.(.+)', r'neck.bottleneck.global_conv.\1'),
    (r'GFEM\.out_conv\.(.+)', r'neck.bottleneck.fuse_conv.\1'),
    (r'decoder([1-4])\.sattn\.0\.(.+)',
     renumber(r'neck.decoder_blocks.{}.gate_conv.\2')),
    (r'decoder([1-4])\.nConvs\.(\d+)\.conv\.(.+)',
     renumber(r'neck.decoder_blocks.{}.convs.\2.0.\3')),
    (r'decoder([1-4])\.nConvs\.(\d+)\.norm\.(.+)',
     renumber(r'neck.decoder_blocks.{}.convs.\2.1.\3')),
    (r'outc\.0\.(.+)', r'decode_head.mixer.\1'),
    (r'outc\.1\.(.+)', r'decode_head.conv_seg.\1'),
]


@CONVERTERS.register_module(name='datransnet')
class DATransNetConverter(RuleConverter):
    """``--model datransnet``: the NUDT-SIRST paper config."""
    config = 'configs/datransnet/datransnet_1xb4-400e_nudt-sirst-256x256.py'
    rules = RULES
    strip_prefixes = ('model.', )
    dropped = {
        prefix + module: UNUSED
        for prefix in ('model.', '') for module in ('encoder5.', 'decoder5.')
    }


map_datransnet_key = DATransNetConverter().map_key
