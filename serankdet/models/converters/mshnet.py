"""Official MSHNet checkpoints (Lliu666/MSHNet) -> serankdet.

The released weights (``IRSTD-1k_weight.tar``, ``NUDT-SIRST_weight.tar``)
hold ``{'state_dict': ...}``; the official training saves a bare state dict
(``weight.pkl``, also the "iou_67.87" weights); both are accepted, with or
without the ``module.`` prefix of its ``--multi-gpus`` DataParallel. Its
resumable ``checkpoint.pkl`` keeps the weights under ``net``: pass
``checkpoint['net']`` saved on its own, or the ``weight.pkl`` beside it.
"""
from serankdet.registry import CONVERTERS

from .base import RuleConverter, res_cbam_key

# (reference key after the optional "module." prefix, our key); inside a
# residual-CBAM block only the spatial gate's conv is renamed
RULES = [
    (r'conv_init\.(.+)', r'backbone.stem.\1'),
    (r'encoder_([0-3])\.(\d+)\.(.+)',
     lambda m: f'backbone.stages.{m[1]}.{m[2]}.{res_cbam_key(m[3])}'),
    (r'middle_layer\.(\d+)\.(.+)',
     lambda m: f'backbone.stages.4.{m[1]}.{res_cbam_key(m[2])}'),
    (r'decoder_([0-3])\.(\d+)\.(.+)',
     lambda m: f'neck.stages.{m[1]}.{m[2]}.{res_cbam_key(m[3])}'),
    (r'output_([0-3])\.(.+)', r'decode_head.side_convs.\1.\2'),
    (r'final\.(.+)', r'decode_head.fuse_conv.\1'),
]


@CONVERTERS.register_module(name='mshnet')
class MSHNetConverter(RuleConverter):
    """``--model mshnet``: the IRSTD-1k config (NUDT-SIRST has the same
    network)."""
    config = 'configs/mshnet/mshnet_1xb4-400e_irstd1k-256x256.py'
    rules = RULES
    strip_prefixes = ('module.', )


map_mshnet_key = MSHNetConverter().map_key
