"""DATransNet: fidelity to the reference golden vectors, converter, errors."""
import os.path as osp

import pytest
import torch
import torch.nn.functional as F
from mmengine.config import Config
from mmengine.structures import PixelData
from mmseg.structures import SegDataSample

from serankdet.apis.conversion import convert_checkpoint, convert_state_dict
from serankdet.models.converters import ConversionError
from serankdet.models.converters.datransnet import map_datransnet_key
from serankdet.models.layers.gradient_attention import (NEIGHBOUR_OFFSETS,
                                                         difference_kernel)
from serankdet.registry import MODELS
from .golden_utils import assert_buffers_match

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
NUDT_CFG = osp.join(REPO_ROOT, 'configs', 'datransnet',
                    'datransnet_1xb4-400e_nudt-sirst-256x256.py')
IRSTD1K_CFG = osp.join(REPO_ROOT, 'configs', 'datransnet',
                       'datransnet_1xb4-400e_irstd1k-512x512.py')
ATOL = 1e-5


@pytest.fixture(scope='module')
def golden(golden_dir):
    return torch.load(osp.join(golden_dir, 'datransnet.pt'),
                      weights_only=True, map_location='cpu')


@pytest.fixture(scope='module')
def converted(golden_dir, tmp_path_factory):
    """The golden reference checkpoint (reference keys, ``model.`` prefix)
    converted as ``official2serankdet.py --model datransnet`` does."""
    dst = str(tmp_path_factory.mktemp('datransnet') / 'converted.pth')
    notes = convert_checkpoint('datransnet',
                               osp.join(golden_dir, 'datransnet.pt'), dst)
    return dict(torch.load(dst, weights_only=True), notes=notes)


def build(config, state_dict):
    model = MODELS.build(Config.fromfile(config).model)
    model.load_state_dict(state_dict, strict=True)
    return model


def test_converter_drops_unused_modules_with_a_note(converted):
    # encoder5: 14 keys, decoder5: 16 keys, never used by the reference
    assert converted['notes'] == [
        'dropped 30 keys: built by the reference but never used in its '
        'forward (encoder5/decoder5); not part of the model'
    ]
    assert len(converted['state_dict']) == 265 - 30
    assert converted['meta']['model'] == 'datransnet'


def test_eval_logits_match_reference(golden, converted, one_thread):
    model = build(NUDT_CFG, converted['state_dict']).eval()
    with torch.no_grad():
        logits = model(golden['input'], mode='tensor')
    assert logits.shape == (2, 1, 256, 256)
    torch.testing.assert_close(logits, golden['output_logits'], atol=ATOL,
                               rtol=0)
    torch.testing.assert_close(logits.sigmoid(), golden['output'],
                               atol=ATOL, rtol=0)


def test_train_forward_matches_reference(golden, converted, one_thread):
    model = build(NUDT_CFG, converted['state_dict']).train()
    with torch.no_grad():
        logits = model(golden['train_input'], mode='tensor')
    torch.testing.assert_close(logits.sigmoid(), golden['train_output'],
                               atol=ATOL, rtol=0)
    # 27 BatchNorms x (mean, var, count); encoder5/decoder5 are not built
    assert assert_buffers_match(
        model, golden['bn_buffers_after_train_forward'], map_datransnet_key,
        atol=ATOL) == 81


def test_img_size_512_config_matches_reference(golden, converted,
                                               one_thread):
    model = build(IRSTD1K_CFG, converted['state_dict']).eval()
    assert model.neck.skip_attentions[0].area == 512 * 512
    with torch.no_grad():
        probs = model(golden['input'], mode='tensor').sigmoid()
    torch.testing.assert_close(probs, golden['output_model_img_size_512'],
                               atol=ATOL, rtol=0)


def test_stage_intermediates_match_reference(golden, converted, one_thread):
    model = build(NUDT_CFG, converted['state_dict']).eval()
    ref = golden['small_intermediates']
    names = ['inc', 'encoder1', 'encoder2', 'encoder3', 'encoder4']

    def check(ours, name):
        # deep features reach |x| ~ 10-100: compare relative to their scale
        scale = max(1.0, ref[name].abs().max().item())
        torch.testing.assert_close(ours, ref[name], atol=ATOL * scale,
                                   rtol=0, msg=lambda m: f'{name}: {m}')

    with torch.no_grad():
        feats = model.backbone(golden['small_input'])
        for feat, name in zip(feats, names):
            check(feat, name)
        neck = model.neck
        for index in range(4):
            check(neck.skip_attentions[index](feats[index]),
                  f'contras{index + 1}')
        check(neck.bottleneck(feats[4]), 'GFEM')
        decoded = neck(feats)
        for index in range(4):
            check(decoded[index], f'decoder{index + 1}')
        check(model.decode_head(decoded)[0], 'outc')


@pytest.mark.parametrize('size,divisor', [(48, 32), (40, 16)])
def test_input_side_not_multiple_of_32_raises(size, divisor):
    model = MODELS.build(Config.fromfile(NUDT_CFG).model).eval()
    with pytest.raises(ValueError,
                       match=f'multiples of {divisor}, got {size}x64'):
        model(torch.rand(1, 1, size, 64), mode='tensor')


def test_loss_mode_returns_batch_soft_iou():
    model = MODELS.build(Config.fromfile(NUDT_CFG).model).train()
    data = model.data_preprocessor(
        dict(inputs=[torch.randint(0, 256, (1, 64, 64), dtype=torch.uint8)
                     for _ in range(2)]), True)
    samples = []
    for _ in range(2):
        sample = SegDataSample()
        sample.gt_sem_seg = PixelData(data=torch.zeros(1, 64, 64,
                                                       dtype=torch.long))
        samples.append(sample)
    losses = model(data['inputs'], samples, mode='loss')
    assert set(losses) == {'loss_softiou'}
    # empty target: 1 - 1 / (sum(p) + 1), p = sigmoid(logits)
    with torch.no_grad():
        psum = model(data['inputs'], mode='tensor').sigmoid().sum()
    assert losses['loss_softiou'].item() == pytest.approx(
        1 - 1 / (psum.item() + 1), rel=1e-3)


def hand_differences(x, d):
    """8 central differences by explicit loops (reflect padding)."""
    _, channels, height, width = x.shape
    reflect = lambda i, n: -i if i < 0 else 2 * (n - 1) - i if i >= n else i
    diffs = torch.zeros(1, 8 * channels, height, width, dtype=x.dtype)
    for k, (dy, dx) in enumerate(NEIGHBOUR_OFFSETS):
        for i in range(height):
            for j in range(width):
                ii, jj = reflect(i + dy * d, height), reflect(j + dx * d, width)
                diffs[0, k * channels:(k + 1) * channels, i, j] = \
                    x[0, :, ii, jj] - x[0, :, i, j]
    return diffs


def test_central_differences_by_hand():
    x = torch.arange(9.).view(1, 1, 3, 3)  # rows 0 1 2 / 3 4 5 / 6 7 8
    diffs = hand_differences(x, 1)
    # offset 0 is (-1, -1); at (1, 1): x[0, 0] - x[1, 1]
    assert diffs[0, 0, 1, 1] == 0 - 4
    # offset 4 is (0, +1); at (0, 2) reflect gives x[0, 1]: 1 - 2
    assert diffs[0, 4, 0, 2] == 1 - 2
    # offset 7 is (+1, +1); at (2, 2) reflect gives x[1, 1]: 4 - 8
    assert diffs[0, 7, 2, 2] == 4 - 8


@pytest.mark.parametrize('dilation', [1, 3])
def test_difference_kernel_equals_projected_differences(dilation):
    """conv3x3(pad(x), difference_kernel(W)) == conv1x1(differences(x), W)."""
    torch.manual_seed(0)
    x = torch.randn(1, 2, 7, 6, dtype=torch.float64)
    weight = torch.randn(5, 16, 1, 1, dtype=torch.float64)
    expected = F.conv2d(hand_differences(x, dilation), weight)
    fused = F.conv2d(F.pad(x, (dilation, ) * 4, mode='reflect'),
                     difference_kernel(weight), dilation=dilation)
    torch.testing.assert_close(fused, expected, rtol=1e-12, atol=1e-12)


def test_converter_error_lists_keys(golden):
    reference = dict(golden['state_dict'])
    reference['model.extra.weight'] = reference.pop(
        'model.outc.1.weight')
    reference['model.inc.0.conv1.weight'] = torch.zeros(16, 3, 3, 3)
    with pytest.raises(ConversionError) as err:
        convert_state_dict('datransnet', reference)
    message = str(err.value)
    assert '1 reference keys without a mapping:\n  model.extra.weight' \
        in message
    assert 'model keys missing from the reference:\n  ' \
        'decode_head.conv_seg.weight' in message
    assert 'backbone.stages.0.conv1.weight: reference (16, 3, 3, 3) vs ' \
        'ours (16, 1, 3, 3)' in message


def test_init_keeps_reference_initialisation():
    model = MODELS.build(Config.fromfile(NUDT_CFG).model)
    model.init_weights()
    # the reference zero-initialises the non-local output BN: GFEM's
    # non-local term starts at exactly 0
    bn = model.neck.bottleneck.non_local.out_proj[1]
    assert bn.weight.abs().sum() == 0 and bn.bias.abs().sum() == 0
    feats = model.backbone(torch.rand(1, 1, 64, 64))
    assert model.neck.bottleneck.non_local(feats[-1]).abs().max() == 0
    # convs keep PyTorch's default init: kaiming_uniform(a=sqrt(5)) gives
    # weights in +-1/sqrt(fan_in) (mmcv's ConvModule would not)
    conv = model.backbone.stages[1].conv1
    bound = 1 / (16 * 9)**0.5
    assert conv.weight.abs().max() <= bound
    assert conv.weight.abs().max() > 0.9 * bound


def test_converter_accepts_bare_reference_keys(golden, converted):
    bare = {k[len('model.'):]: v for k, v in golden['state_dict'].items()}
    state_dict, notes = convert_state_dict('datransnet', bare)
    assert notes == converted['notes']
    assert state_dict.keys() == converted['state_dict'].keys()


@pytest.mark.parametrize('dataset, frames, drop_last', [
    ('nudt-sirst-256x256', 663, False), ('irstd1k-512x512', 800, False),
    ('sirst-256x256', 341, True)])
def test_batch_rule_is_the_references(dataset, frames, drop_last):
    """The reference's train.py skips a training batch of one and keeps
    any other partial batch: at batch 4 only SIRST's 341 frames leave one,
    so only its config drops the last batch."""
    cfg = Config.fromfile(osp.join(REPO_ROOT, 'configs', 'datransnet',
                                   f'datransnet_1xb4-400e_{dataset}.py'))
    batch = cfg.train_dataloader.batch_size
    assert batch == 4
    assert (frames % batch == 1) is drop_last
    assert cfg.train_dataloader.get('drop_last', False) is drop_last
