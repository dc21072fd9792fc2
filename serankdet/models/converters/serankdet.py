"""Official SeRankDet checkpoints (GrokCV/SeRankDet) -> ours.

Official keys look like ``decode_head.Conv1.conv_layer.0.0.weight`` (the
reference wraps the network as ``Model(decode_head=SeRankDet)``); keys
without the ``decode_head.`` prefix (a bare network state dict) and with a
DDP ``module.`` prefix are accepted too.
"""
import re
from typing import Optional

from .base import register_converter

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
     lambda s, part, rest: f'backbone.stages.{int(s) - 1}.{_DDC[part]}.{rest}'),
    (r'Conv(\d)\.cdc_layer\.0\.conv\.(weight|bias)',
     lambda s, p: f'backbone.stages.{int(s) - 1}.difference_branch.0.{p}'),
    (r'Conv(\d)\.cdc_layer\.1\.(.+)',
     lambda s, p: f'backbone.stages.{int(s) - 1}.difference_branch.1.{p}'),
    (r'max_channel(\d)\.(fc1\.weight|fc2\.weight|pos_enc\.pos_enc)',
     lambda s, p: f'backbone.attentions.{int(s) - 1}.{_SERANK[p]}'),
    (r'neck(\d)\.(.+)', lambda s, p: f'neck.fusions.{int(s) - 2}.{p}'),
    (r'Up(\d)\.up\.1\.(.+)', lambda s, p: f'neck.ups.{int(s) - 2}.conv.0.{p}'),
    (r'Up(\d)\.up\.2\.(.+)', lambda s, p: f'neck.ups.{int(s) - 2}.conv.1.{p}'),
    (r'Up_conv(\d)\.conv\.(0|1|3\.conv|4|6|7)\.(.+)',
     lambda s, i, p: f'neck.blocks.{int(s) - 2}.{_DECODER[i]}.{p}'),
    (r'Conv\.(weight|bias)', lambda p: f'decode_head.main_conv.{p}'),
    (r'conv(\d)\.(weight|bias)',
     lambda s, p: f'decode_head.side_convs.{int(s) - 1}.{p}'),
]
_RULES = [(re.compile(pattern), make) for pattern, make in _RULES]


@register_converter(
    'serankdet',
    config='configs/_base_/models/serankdet.py')
def map_serankdet_key(key: str) -> Optional[str]:
    """Our key for an official SeRankDet key, or None if it is unknown."""
    for prefix in ('module.', 'decode_head.'):
        if key.startswith(prefix):
            key = key[len(prefix):]
    for pattern, make in _RULES:
        match = pattern.fullmatch(key)
        if match:
            return make(*match.groups())
    return None
