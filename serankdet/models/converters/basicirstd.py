"""BasicIRSTD checkpoints of ACM and ALCNet (XinyiYing/BasicIRSTD) ->
serankdet.

BasicIRSTD's ``train.py`` saves ``{epoch, state_dict, total_loss}``, the
state dict of its ``Net`` wrapper, which holds the network as ``.model``:
keys read ``model.stem.0.weight``. Bare network keys and a DataParallel
``module.`` prefix are accepted too. ALCNet's ``ASKCResNetFPN`` builds
``uplayer1``/``uplayer2`` but never uses them in its forward; they are not
part of our model and are dropped with a note.
"""
from serankdet.registry import CONVERTERS

from .base import RuleConverter, renumber

PREFIXES = ('module.', 'model.')
UNUSED = ('built by the reference but never used in its forward '
          '(ASKCResNetFPN uplayer1/uplayer2); not part of the model')


FUSION_PARTS = dict(topdown='top_down', bottomup='bottom_up', post='post')


def _fusion_rule(pattern: str, offset: int):
    """Fusion modules ``pattern`` (its group is a number N) ->
    ``neck.fusions.{N - offset}``, with our names of their parts."""
    return (pattern + r'\.(topdown|bottomup|post)\.(.+)',
            lambda m: (f'neck.fusions.{int(m[1]) - offset}.'
                       f'{FUSION_PARTS[m[2]]}.{m[3]}'))


# rules both models share (reference key without prefixes, our key)
SHARED_RULES = [
    (r'stem\.(.+)', r'backbone.stem.\1'),
    (r'layer([1-3])\.(.+)', renumber(r'backbone.stages.{}.\2')),
    (r'deconv([12])\.(.+)', renumber(r'neck.up_convs.{}.\2')),
    (r'head\.block\.([01])\.(.+)', r'decode_head.conv.\1.\2'),
    (r'head\.block\.4\.(.+)', r'decode_head.conv_seg.\1'),
]
# ACM (ASKCResUNet): fuse1/uplayer1 at 1/4, fuse2/uplayer2 at 1/8
ACM_RULES = SHARED_RULES + [
    _fusion_rule(r'fuse([12])', 1),
    (r'uplayer([12])\.(.+)', renumber(r'neck.res_layers.{}.\2')),
]
# ALCNet (ASKCResNetFPN): fuse12 at 1/4, fuse23 at 1/8, deconv0 to 1/2
ALCNET_RULES = SHARED_RULES + [
    _fusion_rule(r'fuse[12]([23])', 2),
    (r'deconv0\.(.+)', r'neck.out_conv.\1'),
]


@CONVERTERS.register_module(name='acm')
class ACMConverter(RuleConverter):
    """``--model acm``: BasicIRSTD's ACM (``ASKCResUNet``)."""
    config = 'configs/acm/acm_1xb16-400e_nudt-sirst-256x256.py'
    rules = ACM_RULES
    strip_prefixes = PREFIXES


@CONVERTERS.register_module(name='alcnet')
class ALCNetConverter(RuleConverter):
    """``--model alcnet``: BasicIRSTD's ALCNet (``ASKCResNetFPN``)."""
    config = 'configs/alcnet/alcnet_1xb16-400e_nudt-sirst-256x256.py'
    rules = ALCNET_RULES
    strip_prefixes = PREFIXES
    dropped = {
        prefix + module: UNUSED
        for prefix in ('module.model.', 'module.', 'model.', '')
        for module in ('uplayer1.', 'uplayer2.')
    }


map_acm_key = ACMConverter().map_key
map_alcnet_key = ALCNetConverter().map_key
