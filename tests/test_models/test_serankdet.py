"""SeRankDet end to end: official-weight conversion, golden outputs, shapes.

The golden compact file ships BN/LSFF/position-table tensors; every conv and
linear weight is regenerated from its official key name (``meta['recipe']``).
Full width, float64, one batch of 2 (the reference standardises over the
batch). Runtime: about 40 s, most of it the two float64 forward passes.
"""
import os.path as osp
import runpy

import numpy as np
import pytest
import torch
from mmengine.config import Config

from serankdet.apis import init_model
from serankdet.apis.conversion import convert_state_dict
from serankdet.models.converters import ConversionError
from serankdet.models.converters.serankdet import map_serankdet_key
from serankdet.registry import MODELS
from serankdet.testing.golden import \
    serankdet_reference_state_dict as regenerate_reference_state_dict

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
MODEL_CONFIG = osp.join(REPO_ROOT, 'configs/_base_/models/serankdet.py')
CONVERTER = osp.join(REPO_ROOT, 'tools/model_converters/official2serankdet.py')
# reference output order [d_s1..d_s5, out] -> ours [out, d_s1..d_s5]
REFERENCE_INDEX = [5, 0, 1, 2, 3, 4]


def model_cfg(**backbone):
    cfg = Config.fromfile(MODEL_CONFIG).model
    cfg.backbone.update(backbone)
    return cfg


@pytest.fixture(scope='module')
def golden(golden_dir):
    return torch.load(osp.join(golden_dir, 'serankdet_compact.pt'),
                      weights_only=True)


@pytest.fixture(scope='module')
def converted_model(golden, tmp_path_factory):
    """Golden weights saved as an official checkpoint, converted by the CLI,
    loaded with ``init_model`` (strict)."""
    folder = tmp_path_factory.mktemp('serankdet_ckpt')
    src, dst = folder / 'best_mIoU.pth.tar', folder / 'converted.pth'
    # official files also hold numpy scalars next to the weights
    torch.save(dict(epoch=3, state_dict=regenerate_reference_state_dict(
        golden), loss=np.float64(0.5), mIoU=[np.float64(0.1)]), src)
    main = runpy.run_path(CONVERTER)['main']
    assert main(['--model', 'serankdet', str(src), str(dst)]) == 0
    return init_model(MODEL_CONFIG, str(dst))


def check_outputs(outputs, expected):
    assert len(outputs) == 6
    for ours, ref in zip(outputs, REFERENCE_INDEX):
        torch.testing.assert_close(ours, expected[ref], atol=1e-6, rtol=1e-6)


def test_golden_eval_float64(converted_model, golden):
    model = converted_model.double().eval()
    captured = []
    hook = model.decode_head.register_forward_hook(
        lambda module, args, outputs: captured.append(outputs))
    with torch.no_grad():
        main = model(golden['input'].double(), mode='tensor')
    hook.remove()
    outputs, = captured
    torch.testing.assert_close(main, golden['output_f64'][5], atol=1e-6,
                               rtol=1e-6)
    check_outputs(outputs, golden['output_f64'])


def test_golden_train_float64(converted_model, golden):
    model = converted_model.double().train()
    with torch.no_grad():
        outputs = model.forward_outputs(golden['train_input'].double())
    check_outputs(outputs, golden['train_output_f64'])


def test_parameter_count_matches_reference():
    with torch.device('meta'):
        model = MODELS.build(model_cfg())
    params = list(model.parameters())
    assert sum(p.numel() for p in params) == 109_242_518
    assert sum(p.numel() for p in params if p.requires_grad) == 108_893_334
    assert len(model.state_dict()) == 439
    assert model.backbone.topks == [512, 256, 128, 64, 32]


def test_key_prefixes():
    ours = 'backbone.stages.0.plain_branch.0.0.weight'
    for prefix in ('decode_head.', '', 'module.decode_head.', 'module.'):
        assert map_serankdet_key(
            prefix + 'Conv1.conv_layer.0.0.weight') == ours
    assert map_serankdet_key('decode_head.Conv.bias') == \
        'decode_head.main_conv.bias'
    assert map_serankdet_key('decode_head.conv5.weight') == \
        'decode_head.side_convs.4.weight'


def test_converter_lists_bad_keys(golden):
    with torch.device('meta'):
        state = MODELS.build(model_cfg()).state_dict()
    official = list(golden['stored_state_dict']) + list(
        golden['generated_checksums'])
    # official names with our (meta) tensors: one key missing, one unknown
    reference = {key: state[map_serankdet_key(key)] for key in official
                 if key != 'decode_head.neck3.gamma'}
    reference['decode_head.extra.weight'] = torch.zeros(1)
    with pytest.raises(ConversionError) as err:
        convert_state_dict('serankdet', reference)
    message = str(err.value)
    assert '1 reference keys without a mapping' in message
    assert 'decode_head.extra.weight' in message
    assert '1 model keys missing' in message
    assert 'neck.fusions.1.gamma' in message


def small_model(**backbone):
    """Width 4, K = 64 ... 4: runs on 64x64 inputs in milliseconds."""
    cfg = model_cfg(base_channels=4, topk_budget=256, **backbone)
    cfg.neck.in_channels = [4, 8, 16, 32, 64]
    cfg.decode_head.in_channels = [4, 8, 16, 32, 64]
    return MODELS.build(cfg)


def test_gradients_reach_every_trainable_parameter():
    torch.manual_seed(0)
    model = small_model().train()
    # LSFF starts as plain concatenation (gamma = 0), which would block the
    # gradient of its convs
    for fusion in model.neck.fusions:
        fusion.gamma.data.fill_(0.5)
    inputs = torch.randn(2, 3, 64, 64)
    target = (torch.rand(2, 1, 64, 64) > 0.97).float()
    losses = model.decode_head.loss_by_outputs(model.forward_outputs(inputs),
                                               target)
    assert len(losses) == 6
    sum(losses.values()).backward()
    for name, param in model.named_parameters():
        if param.requires_grad:
            assert param.grad is not None and param.grad.abs().sum() > 0, name
        else:
            assert name.endswith('pos_table') and param.grad is None


def test_per_sample_norm_model_is_batch_independent():
    torch.manual_seed(0)
    inputs = torch.randn(2, 3, 64, 64, dtype=torch.float64)
    model = small_model(per_sample_norm=True).double().eval()
    with torch.no_grad():
        torch.testing.assert_close(model(inputs[:1], mode='tensor'),
                                   model(inputs, mode='tensor')[:1])


def test_reduced_width_with_default_budget_grows_k():
    with torch.device('meta'):
        encoder = MODELS.build(dict(type='SeRankDetEncoder', base_channels=8))
    assert encoder.topks == [4096, 2048, 1024, 512, 256]
    assert encoder.attentions[0].pos_table.shape == (4096, 4096)


@pytest.mark.parametrize('size, match', [
    ((120, 128), 'multiples of 16'),
    ((528, 512), r'sides <= 512 \(position table\)'),
    ((64, 64), 'at least 32 pixels'),
])
def test_encoder_input_checks(size, match):
    with torch.device('meta'):
        encoder = MODELS.build(dict(type='SeRankDetEncoder'))
    with pytest.raises(ValueError, match=match):
        encoder.check_input(*size)


def test_bad_topk_budget():
    with pytest.raises(ValueError, match='even K'):
        MODELS.build(dict(type='SeRankDetEncoder', topk_budget=1000))


def test_lsff_decoder_on_unet_encoder_features():
    channels = (8, 16, 32, 64)
    model = MODELS.build(dict(
        type='IRSTDSegmentor',
        data_preprocessor=dict(type='IRSTDDataPreProcessor', size_divisor=8),
        backbone=dict(type='UNetEncoder', in_channels=1, channels=channels),
        neck=dict(type='LSFFDecoder', in_channels=channels),
        decode_head=dict(type='IRSTDHead', in_channels=channels,
                         side_in_indices=(1, 2, 3)))).eval()
    feats = model.extract_feat(torch.randn(2, 1, 32, 48))
    assert [tuple(f.shape) for f in feats] == [
        (2, 8, 32, 48), (2, 16, 16, 24), (2, 32, 8, 12), (2, 64, 4, 6)]
    outputs = model.forward_outputs(torch.randn(2, 1, 32, 48))
    assert [tuple(o.shape) for o in outputs] == [(2, 1, 32, 48)] * 4
