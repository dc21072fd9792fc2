"""Official DATransNet checkpoints (greekinRoma/DATransNet) -> serankdet.

The official ``train.py`` saves ``{epoch, state_dict, total_loss}`` where the
state dict belongs to a wrapper holding the network as ``.model``, so keys
read ``model.inc.0.conv1.weight``; bare ``DATransNet`` keys (without
``model.``) are accepted too. ``encoder5`` and ``decoder5`` are built by the
reference but never used in its forward; they are not part of our model and
are dropped with a note.
"""
import re
from typing import Optional

from .base import register_converter

UNUSED = ('built by the reference but never used in its forward '
          '(encoder5/decoder5); not part of the model')

# (reference pattern after the optional "model." prefix, our replacement)
RULES = [
    (r'inc\.0\.', 'backbone.stages.0.'),
    (r'encoder([1-4])\.0\.', lambda m: f'backbone.stages.{m[1]}.'),
    (r'contras([1-4])\.',
     lambda m: f'neck.skip_attentions.{int(m[1]) - 1}.'),
    (r'GFEM\.sp\.theta\.', 'neck.bottleneck.non_local.theta.'),
    (r'GFEM\.sp\.phi\.0\.', 'neck.bottleneck.non_local.phi.'),
    (r'GFEM\.sp\.g\.0\.', 'neck.bottleneck.non_local.g.'),
    (r'GFEM\.sp\.W\.', 'neck.bottleneck.non_local.out_proj.'),
    (r'GFEM\.ca\.fc1\.', 'neck.bottleneck.channel_gate.'),
    (r'GFEM\.tra_conv_1\.', 'neck.bottleneck.local_conv.'),
    (r'GFEM\.tra_conv_2\.', 'neck.bottleneck.global_conv.'),
    (r'GFEM\.out_conv\.', 'neck.bottleneck.fuse_conv.'),
    (r'decoder([1-4])\.sattn\.0\.',
     lambda m: f'neck.decoder_blocks.{int(m[1]) - 1}.gate_conv.'),
    (r'decoder([1-4])\.nConvs\.(\d+)\.(conv|norm)\.',
     lambda m: (f'neck.decoder_blocks.{int(m[1]) - 1}.convs.{m[2]}.'
                f'{0 if m[3] == "conv" else 1}.')),
    (r'outc\.0\.', 'decode_head.mixer.'),
    (r'outc\.1\.', 'decode_head.conv_seg.'),
]


@register_converter(
    'datransnet',
    config='configs/datransnet/datransnet_1xb4-400e_nudt-sirst-256x256.py',
    dropped={
        prefix + module: UNUSED
        for prefix in ('model.', '') for module in ('encoder5.', 'decoder5.')
    })
def map_datransnet_key(key: str) -> Optional[str]:
    """Our name of a reference key; None for dropped or unknown keys."""
    bare = key[len('model.'):] if key.startswith('model.') else key
    for pattern, replacement in RULES:
        renamed, count = re.subn('^' + pattern, replacement, bare)
        if count:
            return renamed
    return None
