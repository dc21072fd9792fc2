"""Official UIU-Net checkpoints (danfenghong/IEEE_TIP_UIU-Net) -> serankdet.

The official ``train.py`` saves ``net.state_dict()`` of ``UIUNET(3, 1)``
bare (``saved_models/uiunet/uiunet.pth``), keys like
``stage1.rebnconvin.conv_s1.weight``; a DataParallel ``module.`` prefix is
accepted too. Every key maps (942 keys, 50,541,461 parameters).

Inside a residual U-block of depth L, ``rebnconvin`` is our ``conv_in``,
``rebnconv1`` .. ``rebnconv{L-1}`` the encoder convs, ``rebnconv{L}`` the
bottom conv and ``rebnconv{k}d`` decoder conv k - 1; ``conv_s1`` / ``bn_s1``
are the conv-BN-ReLU's ``0`` / ``1``.
"""
from serankdet.registry import CONVERTERS

from .base import RuleConverter, renumber

# reference stage -> (our module, RSU depth L)
STAGES = {
    **{f'stage{i + 1}': (f'backbone.stages.{i}', depth)
       for i, depth in enumerate((7, 6, 5, 4, 4, 4))},
    **{f'stage{i + 1}d': (f'neck.blocks.{i}', depth)
       for i, depth in enumerate((7, 6, 5, 4, 4))},
}
LAYERS = dict(conv_s1='0', bn_s1='1')


def _rsu_key(match) -> str:
    module, depth = STAGES[match['stage']]
    conv = match['conv']
    if conv is None:
        name = 'conv_in'
    elif match['decoder']:
        name = f'decoder_convs.{int(conv) - 1}'
    elif int(conv) == depth:
        name = 'bottom_conv'
    else:
        name = f'encoder_convs.{int(conv) - 1}'
    return f'{module}.{name}.{LAYERS[match["layer"]]}.{match["rest"]}'


# (reference key after the optional "module." prefix, our key)
RULES = [
    (r'(?P<stage>stage[1-6]d?)\.rebnconv(?:in|(?P<conv>\d+)(?P<decoder>d?))'
     r'\.(?P<layer>conv_s1|bn_s1)\.(?P<rest>.+)', _rsu_key),
    (r'fuse([2-5])\.feature_high\.([01]\..+)',
     renumber(r'neck.attentions.{}.high_proj.\2')),
    (r'fuse([2-5])\.topdown\.([1245]\..+)',
     renumber(r'neck.attentions.{}.channel_gate.\2')),
    (r'fuse([2-5])\.bottomup\.([01]\..+)',
     renumber(r'neck.attentions.{}.spatial_gate.\2')),
    (r'fuse([2-5])\.bottomup\.3\.conv1\.weight',
     renumber('neck.attentions.{}.spatial_gate.3.conv.weight')),
    (r'fuse([2-5])\.post\.([01]\..+)',
     renumber(r'neck.attentions.{}.post.\2')),
    (r'side([1-6])\.(weight|bias)', renumber(r'decode_head.side_convs.{}.\2')),
    (r'outconv\.(weight|bias)', r'decode_head.fuse_conv.\1'),
]


@CONVERTERS.register_module(name='uiunet')
class UIUNetConverter(RuleConverter):
    """``--model uiunet``: the official ``UIUNET(3, 1)`` (3-channel input)."""
    config = 'configs/uiunet/uiunet_1xb3-500e_sirst-288x288.py'
    rules = RULES
    strip_prefixes = ('module.', )


map_uiunet_key = UIUNetConverter().map_key
