"""Official DNANet checkpoints (YeRen123455/Infrared-Small-Target-Detection)
-> serankdet.

The official ``train.py`` saves ``{epoch, state_dict, loss, mean_IOU}``
with the bare ``DNANet`` state dict (``conv0_0.0.conv1.weight``, ...); a
``module.`` prefix (``nn.DataParallel``) is accepted too. Inside a
Res-CBAM block only the spatial gate's conv is renamed (``sa.conv1`` ->
``sa.conv``). The weights are those of the deeply supervised ResNet-18
model (``final1``..``final4``), the variant the reference trains.
"""
from serankdet.registry import CONVERTERS

from .base import RuleConverter, renumber, res_cbam_key

# (reference key after the optional "module." prefix, our key)
RULES = [
    (r'conv([0-4])_0\.(\d+)\.(.+)',
     lambda m: f'backbone.stages.{m[1]}.{m[2]}.{res_cbam_key(m[3])}'),
    (r'conv0_4_final\.(\d+)\.(.+)',
     lambda m: f'neck.fuse_layer.{m[1]}.{res_cbam_key(m[2])}'),
    # conv0_{i}_1x1 projects the deepest node of level i
    (r'conv0_([1-4])_1x1\.(.+)', renumber(r'neck.fuse_projs.{}.\2')),
    (r'conv([0-3])_([1-4])\.(\d+)\.(.+)',
     lambda m: (f'neck.nodes.{m[1]}.{int(m[2]) - 1}.{m[3]}.'
                f'{res_cbam_key(m[4])}')),
    (r'final4\.(.+)', r'decode_head.main_conv.\1'),
    (r'final([1-3])\.(.+)', renumber(r'decode_head.side_convs.{}.\2')),
]


@CONVERTERS.register_module(name='dnanet')
class DNANetConverter(RuleConverter):
    """``--model dnanet``: the NUDT-SIRST config (every DNANet config
    builds the same network)."""
    config = 'configs/dnanet/dnanet_1xb16-1500e_nudt-sirst-256x256.py'
    rules = RULES
    strip_prefixes = ('module.', )


map_dnanet_key = DNANetConverter().map_key
