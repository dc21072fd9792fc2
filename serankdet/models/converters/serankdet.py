"""Official SeRankDet checkpoints (GrokCV/SeRankDet) -> ours.

Official keys look like ``decode_head.Conv1.conv_layer.0.0.weight`` (the
reference wraps the network as ``Model(decode_head=SeRankDet)``); keys
without the ``decode_head.`` prefix (a bare network state dict) and with a
DDP ``module.`` prefix are accepted too.
"""
from serankdet.registry import CONVERTERS

from .base import RuleConverter, renumber

# reference sub-path of an encoder DDC block -> ours (after "stages.<i>.")
_DDC = {'conv_layer': 'plain_branch', 'dconv_layer': 'dilated_branch',
        'final_layer': 'fuse'}
# reference decoder conv_block Sequential index -> ours
_DECODER = {'0': '0.0', '1': '0.1', '3.conv': '1.0', '4': '1.1', '6': '2.0',
            '7': '2.1'}
_SERANK = {'fc1.weight': 'query.weight', 'fc2.weight': 'key.weight',
           'pos_enc.pos_enc': 'pos_table'}

_RULES = [
    (r'Conv(\d)\.(conv_layer|dconv_layer|final_layer)\.(.+)',
     lambda m: f'backbone.stages.{int(m[1]) - 1}.{_DDC[m[2]]}.{m[3]}'),
    (r'Conv(\d)\.cdc_layer\.0\.conv\.(weight|bias)',
     renumber(r'backbone.stages.{}.difference_branch.0.\2')),
    (r'Conv(\d)\.cdc_layer\.1\.(.+)',
     renumber(r'backbone.stages.{}.difference_branch.1.\2')),
    (r'max_channel(\d)\.(fc1\.weight|fc2\.weight|pos_enc\.pos_enc)',
     lambda m: f'backbone.attentions.{int(m[1]) - 1}.{_SERANK[m[2]]}'),
    (r'neck(\d)\.(.+)', renumber(r'neck.fusions.{}.\2', offset=2)),
    (r'Up(\d)\.up\.1\.(.+)',
     renumber(r'neck.ups.{}.conv.0.\2', offset=2)),
    (r'Up(\d)\.up\.2\.(.+)',
     renumber(r'neck.ups.{}.conv.1.\2', offset=2)),
    (r'Up_conv(\d)\.conv\.(0|1|3\.conv|4|6|7)\.(.+)',
     lambda m: f'neck.blocks.{int(m[1]) - 2}.{_DECODER[m[2]]}.{m[3]}'),
    (r'Conv\.(weight|bias)', r'decode_head.main_conv.\1'),
    (r'conv(\d)\.(weight|bias)',
     renumber(r'decode_head.side_convs.{}.\2')),
]


@CONVERTERS.register_module(name='serankdet')
class SeRankDetConverter(RuleConverter):
    """``--model serankdet``: the full-width network."""
    config = 'configs/_base_/models/serankdet.py'
    rules = _RULES
    strip_prefixes = ('module.', 'decode_head.')


map_serankdet_key = SeRankDetConverter().map_key
