"""Official SCTransNet checkpoints (xdFai/SCTransNet) -> serankdet.

The official ``train.py`` saves ``{epoch, state_dict, total_loss}`` where the
state dict belongs to a wrapper holding the network as ``.model``, so keys
read ``model.inc.0.conv1.weight``; bare ``SCTransNet`` keys (without
``model.``) are accepted too. The reference builds position embeddings
(``mtc.embeddings_i.position_embeddings``, shaped by its ``img_size``) and
16 scalar weights per transformer block (``channel_attn.q<i>_attn<j>``) that
its forward never uses; they are not part of our model and are dropped with
a note, whatever their img_size.
"""
from serankdet.registry import CONVERTERS

from .base import RuleConverter, renumber

UNUSED_POSITION = ('position embeddings built by the reference but never '
                   'used in its forward; not part of the model')
UNUSED_SCALARS = ('attention scalars (q<i>_attn<j>) built by the reference '
                  'but never used in its forward; not part of the model')
NUM_LAYERS = 4

_LAYER = r'mtc\.encoder\.layer\.(\d+)\.'
_TRANSFORMER = 'neck.transformer.'


# (reference key after the optional "model." prefix, our key)
RULES = [
    (r'inc\.0\.(.+)', r'backbone.stages.0.\1'),
    (r'down_encoder([1-4])\.0\.(.+)', r'backbone.stages.\1.\2'),
    (r'mtc\.embeddings_([1-4])\.patch_embeddings\.(.+)',
     renumber(_TRANSFORMER + r'patch_embeds.{}.\2')),
    (_LAYER + r'attn_norm([1-4])\.body\.(.+)',
     renumber(_TRANSFORMER + r'layers.\1.attn_norms.{}.\3', group=2)),
    (_LAYER + r'attn_norm\.body\.(.+)',
     rf'{_TRANSFORMER}layers.\1.joint_norm.\2'),
    (_LAYER + r'channel_attn\.mhead([1-4])\.weight',
     renumber(_TRANSFORMER + r'layers.\1.attention.queries.{}.0.weight',
              group=2)),
    (_LAYER + r'channel_attn\.q([1-4])\.weight',
     renumber(_TRANSFORMER + r'layers.\1.attention.queries.{}.1.weight',
              group=2)),
    (_LAYER + r'channel_attn\.mheadk\.weight',
     rf'{_TRANSFORMER}layers.\1.attention.key.0.weight'),
    (_LAYER + r'channel_attn\.mheadv\.weight',
     rf'{_TRANSFORMER}layers.\1.attention.value.0.weight'),
    (_LAYER + r'channel_attn\.k\.weight',
     rf'{_TRANSFORMER}layers.\1.attention.key.1.weight'),
    (_LAYER + r'channel_attn\.v\.weight',
     rf'{_TRANSFORMER}layers.\1.attention.value.1.weight'),
    (_LAYER + r'channel_attn\.project_out([1-4])\.weight',
     renumber(_TRANSFORMER + r'layers.\1.attention.out_projs.{}.weight',
              group=2)),
    (_LAYER + r'ffn_norm([1-4])\.body\.(.+)',
     renumber(_TRANSFORMER + r'layers.\1.ffn_norms.{}.\3', group=2)),
    (_LAYER + r'ffn([1-4])\.eca\.conv\.0\.weight',
     renumber(_TRANSFORMER + r'layers.\1.ffns.{}.gate_conv.weight',
              group=2)),
    (_LAYER +
     r'ffn([1-4])\.(project_in|dwconv3x3|dwconv5x5|project_out)\.weight',
     renumber(_TRANSFORMER + r'layers.\1.ffns.{}.\3.weight', group=2)),
    (r'mtc\.encoder\.encoder_norm([1-4])\.body\.(.+)',
     renumber(_TRANSFORMER + r'out_norms.{}.\2')),
    (r'mtc\.reconstruct_([1-4])\.conv\.(.+)',
     renumber(_TRANSFORMER + r'reconstructs.{}.0.\2')),
    (r'mtc\.reconstruct_([1-4])\.norm\.(.+)',
     renumber(_TRANSFORMER + r'reconstructs.{}.1.\2')),
    (r'up_decoder([1-4])\.coatt\.mlp_x\.1\.(.+)',
     renumber(r'neck.decoder_blocks.{}.skip_fc.\2')),
    (r'up_decoder([1-4])\.coatt\.mlp_g\.1\.(.+)',
     renumber(r'neck.decoder_blocks.{}.up_fc.\2')),
    (r'up_decoder([1-4])\.nConvs\.(\d+)\.conv\.(.+)',
     renumber(r'neck.decoder_blocks.{}.convs.\2.0.\3')),
    (r'up_decoder([1-4])\.nConvs\.(\d+)\.norm\.(.+)',
     renumber(r'neck.decoder_blocks.{}.convs.\2.1.\3')),
    (r'outc\.(.+)', r'decode_head.main_conv.\1'),
    # side outputs in our order gt5, gt4, gt3, gt2
    (r'gt_conv([2-5])\.0\.(.+)',
     lambda m: f'decode_head.side_convs.{5 - int(m[1])}.{m[2]}'),
    (r'outconv\.(.+)', r'decode_head.fuse_conv.\1'),
]


def _dropped():
    dropped = {}
    for prefix in ('model.', ''):
        for level in range(1, 5):
            dropped[f'{prefix}mtc.embeddings_{level}.position_embeddings'] = \
                UNUSED_POSITION
            for layer in range(NUM_LAYERS):
                dropped[f'{prefix}mtc.encoder.layer.{layer}.channel_attn.'
                        f'q{level}_attn'] = UNUSED_SCALARS
    return dropped


@CONVERTERS.register_module(name='sctransnet')
class SCTransNetConverter(RuleConverter):
    """``--model sctransnet``: the official weights (SIRST3 config: the
    SIRST normalisation; a per-dataset checkpoint converts the same way,
    record its config with ``--config``)."""
    config = 'configs/sctransnet/sctransnet_1xb16-1000e_sirst-256x256.py'
    rules = RULES
    strip_prefixes = ('model.', )
    dropped = _dropped()


map_sctransnet_key = SCTransNetConverter().map_key
