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

from .base import RuleConverter

UNUSED_POSITION = ('position embeddings built by the reference but never '
                   'used in its forward; not part of the model')
UNUSED_SCALARS = ('attention scalars (q<i>_attn<j>) built by the reference '
                  'but never used in its forward; not part of the model')
NUM_LAYERS = 4

_LAYER = r'mtc\.encoder\.layer\.(\d+)\.'
_TRANSFORMER = 'neck.transformer.'


def _level(match, group=1):
    """0-based level of the reference's 1-based level number."""
    return int(match[group]) - 1


# (reference key after the optional "model." prefix, our key)
RULES = [
    (r'inc\.0\.(.+)', r'backbone.stages.0.\1'),
    (r'down_encoder([1-4])\.0\.(.+)', r'backbone.stages.\1.\2'),
    (r'mtc\.embeddings_([1-4])\.patch_embeddings\.(.+)',
     lambda m: f'{_TRANSFORMER}patch_embeds.{_level(m)}.{m[2]}'),
    (_LAYER + r'attn_norm([1-4])\.body\.(.+)',
     lambda m: f'{_TRANSFORMER}layers.{m[1]}.attn_norms.{_level(m, 2)}.'
     f'{m[3]}'),
    (_LAYER + r'attn_norm\.body\.(.+)',
     rf'{_TRANSFORMER}layers.\1.joint_norm.\2'),
    (_LAYER + r'channel_attn\.mhead([1-4])\.weight',
     lambda m: f'{_TRANSFORMER}layers.{m[1]}.attention.queries.'
     f'{_level(m, 2)}.0.weight'),
    (_LAYER + r'channel_attn\.q([1-4])\.weight',
     lambda m: f'{_TRANSFORMER}layers.{m[1]}.attention.queries.'
     f'{_level(m, 2)}.1.weight'),
    (_LAYER + r'channel_attn\.mhead([kv])\.weight',
     lambda m: f'{_TRANSFORMER}layers.{m[1]}.attention.'
     f'{"key" if m[2] == "k" else "value"}.0.weight'),
    (_LAYER + r'channel_attn\.([kv])\.weight',
     lambda m: f'{_TRANSFORMER}layers.{m[1]}.attention.'
     f'{"key" if m[2] == "k" else "value"}.1.weight'),
    (_LAYER + r'channel_attn\.project_out([1-4])\.weight',
     lambda m: f'{_TRANSFORMER}layers.{m[1]}.attention.out_projs.'
     f'{_level(m, 2)}.weight'),
    (_LAYER + r'ffn_norm([1-4])\.body\.(.+)',
     lambda m: f'{_TRANSFORMER}layers.{m[1]}.ffn_norms.{_level(m, 2)}.'
     f'{m[3]}'),
    (_LAYER + r'ffn([1-4])\.eca\.conv\.0\.weight',
     lambda m: f'{_TRANSFORMER}layers.{m[1]}.ffns.{_level(m, 2)}.'
     'gate_conv.weight'),
    (_LAYER +
     r'ffn([1-4])\.(project_in|dwconv3x3|dwconv5x5|project_out)\.weight',
     lambda m: f'{_TRANSFORMER}layers.{m[1]}.ffns.{_level(m, 2)}.{m[3]}.'
     'weight'),
    (r'mtc\.encoder\.encoder_norm([1-4])\.body\.(.+)',
     lambda m: f'{_TRANSFORMER}out_norms.{_level(m)}.{m[2]}'),
    (r'mtc\.reconstruct_([1-4])\.(conv|norm)\.(.+)',
     lambda m: (f'{_TRANSFORMER}reconstructs.{_level(m)}.'
                f'{0 if m[2] == "conv" else 1}.{m[3]}')),
    (r'up_decoder([1-4])\.coatt\.mlp_([xg])\.1\.(.+)',
     lambda m: (f'neck.decoder_blocks.{_level(m)}.'
                f'{"skip_fc" if m[2] == "x" else "up_fc"}.{m[3]}')),
    (r'up_decoder([1-4])\.nConvs\.(\d+)\.(conv|norm)\.(.+)',
     lambda m: (f'neck.decoder_blocks.{_level(m)}.convs.{m[2]}.'
                f'{0 if m[3] == "conv" else 1}.{m[4]}')),
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
