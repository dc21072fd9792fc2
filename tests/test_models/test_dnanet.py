"""DNANet: fidelity to the official code's golden vectors, converter, recipe.

``tests/data/golden/dnanet.pt`` comes from ``benchmarks/golden/make_dnanet.py``
(official code at YeRen123455/Infrared-Small-Target-Detection 21584be, run
in float64). The official weights are not stored: they are regenerated here
from their key names (``serankdet/testing/seeded_weights.py``) and checked
against the stored checksums.
"""
import math
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper
from mmengine.structures import PixelData
from mmseg.structures import SegDataSample

from serankdet.models.converters.dnanet import map_dnanet_key
from serankdet.registry import MODELS
from .golden_utils import (CONFIG_DIR, assert_buffers_match,
                           assert_conversion_fails, assert_input_rejected,
                           assert_maps_close, build_model,
                           converted_checkpoint, load_golden, perturbed_state,
                           reference_state_dict)

NUDT_CFG = osp.join(CONFIG_DIR, 'dnanet',
                    'dnanet_1xb16-1500e_nudt-sirst-256x256.py')
SIRST_CFG = osp.join(CONFIG_DIR, 'dnanet',
                     'dnanet_1xb16-1500e_sirst-256x256.py')
OFFICIAL_PARAMS = 4696888  # the official DNANet, ResNet-18, 16-256 wide


@pytest.fixture(scope='module')
def golden():
    return load_golden('dnanet')


@pytest.fixture(scope='module')
def reference_state(golden):
    return reference_state_dict(golden)


@pytest.fixture(scope='module')
def converted(reference_state, tmp_path_factory):
    """The golden weights saved as the official train.py saves them
    (``{epoch, state_dict, loss, mean_IOU}``, numpy scalars), with
    ``nn.DataParallel``'s ``module.`` prefix, converted as
    ``official2serankdet.py --model dnanet`` does."""
    checkpoint = dict(epoch=1234,
                      state_dict={f'module.{k}': v
                                  for k, v in reference_state.items()},
                      loss=np.float64(0.1), mean_IOU=np.float64(0.88))
    return converted_checkpoint('dnanet', checkpoint,
                                tmp_path_factory.mktemp('dnanet'),
                                'mIoU__DNANet_NUDT-SIRST_epoch.pth.tar')


def build(state_dict):
    """Our model in float64, with ``state_dict`` loaded strictly."""
    return build_model(NUDT_CFG, state_dict, torch.float64)


def ours_in_reference_order(outputs):
    """Our head returns [final4, final1, final2, final3]."""
    return outputs[1:] + outputs[:1]


def test_regenerated_weights_match_golden_checksums(golden, reference_state):
    # reference_state_dict checked every floating entry against its checksum
    assert len(reference_state) == 570
    assert len(golden['generated_checksums']) == 570 - 68  # minus counts


def test_converter_maps_every_key_strictly(golden, converted):
    assert converted['notes'] == []
    assert converted['meta']['model'] == 'dnanet'
    assert len(converted['state_dict']) == len(golden['shapes']) == 570
    # a few names: spatial gate renamed, fusion and heads placed
    assert map_dnanet_key('module.conv2_0.1.sa.conv1.weight') == \
        'backbone.stages.2.1.sa.conv.weight'
    assert map_dnanet_key('conv1_3.0.shortcut.1.running_var') == \
        'neck.nodes.1.2.0.shortcut.1.running_var'
    assert map_dnanet_key('conv0_4_1x1.weight') == 'neck.fuse_projs.3.weight'
    assert map_dnanet_key('conv0_4_final.0.ca.fc2.weight') == \
        'neck.fuse_layer.0.ca.fc2.weight'
    assert map_dnanet_key('final4.bias') == 'decode_head.main_conv.bias'
    assert map_dnanet_key('final2.weight') == \
        'decode_head.side_convs.1.weight'


def test_param_count_equals_official(golden):
    model = MODELS.build(Config.fromfile(NUDT_CFG).model)
    ours = sum(p.numel() for p in model.parameters())
    assert ours == golden['meta']['params'] == OFFICIAL_PARAMS


def test_eval_outputs_match_reference(golden, converted):
    model = build(converted['state_dict']).eval()
    with torch.no_grad():
        outputs = model.forward_outputs(golden['input'].double())
        main = model(golden['input'].double(), mode='tensor')
    assert [o.shape for o in outputs] == [(2, 1, 64, 64)] * 4
    assert_maps_close(ours_in_reference_order(outputs), golden['output'],
                      golden['output_names'])
    # the prediction is final4
    assert_maps_close([main], golden['output'][3:])


def test_train_outputs_loss_and_bn_buffers_match_reference(
        golden, converted):
    model = build(converted['state_dict']).train()
    with torch.no_grad():
        outputs = model.forward_outputs(golden['train_input'].double())
        losses = model.decode_head.loss_by_outputs(outputs,
                                                   golden['train_target'])
    assert_maps_close(ours_in_reference_order(outputs),
                      golden['train_output'], golden['output_names'])
    # mean soft-IoU of the 4 maps: weights 1/4 on the main and 3 aux losses
    assert sorted(losses) == ['aux1_loss_softiou', 'aux2_loss_softiou',
                              'aux3_loss_softiou', 'loss_softiou']
    total = sum(losses.values())
    assert total.item() == pytest.approx(golden['train_loss'].item(),
                                         abs=1e-12)
    buffers = golden['bn_buffers_after_train_forward']
    # 68 BatchNorms x (mean, var, count)
    assert assert_buffers_match(model, buffers, map_dnanet_key) == 68 * 3


@pytest.mark.slow
def test_one_training_step_matches_reference(golden, converted):
    """One iteration with the config's optimizer and our loss = one
    iteration of the reference train.py (Adagrad at its once-stepped
    cosine learning rate, mean soft-IoU of the 4 maps)."""
    cfg = Config.fromfile(NUDT_CFG)
    assert cfg.optim_wrapper.optimizer.lr == golden['step_lr']
    model = build(converted['state_dict']).train()
    optim_wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    losses = model.decode_head.loss_by_outputs(
        model.forward_outputs(golden['train_input'].double()),
        golden['train_target'])
    optim_wrapper.update_params(sum(losses.values()))
    params = dict(model.named_parameters())
    for key, (total, abs_total) in golden['step_param_checksums'].items():
        value = params[map_dnanet_key(key)]
        assert value.sum().item() == pytest.approx(total, abs=1e-8), key
        assert value.abs().sum().item() == pytest.approx(abs_total,
                                                         abs=1e-8), key
    with torch.no_grad():
        main = model.forward_outputs(golden['train_input'].double())[0]
    assert_maps_close([main], [golden['step_output']], atol=1e-8)


def test_float32_eval_close_to_reference(golden, converted, one_thread):
    model = build_model(NUDT_CFG, converted['state_dict']).eval()
    with torch.no_grad():
        logits = model(golden['input'], mode='tensor')
    assert_maps_close([logits.double()], golden['output'][3:], atol=1e-4)


def test_converter_rejects_a_foreign_checkpoint():
    # DATransNet's keys are not DNANet's
    assert_conversion_fails(
        'dnanet', {
            'model.inc.0.conv1.weight': torch.zeros(16, 1, 3, 3),
            'model.outc.1.weight': torch.zeros(1, 16, 1, 1)
        }, 'not a "dnanet" checkpoint',
        '2 reference keys without a mapping:\n  model.inc.0.conv1',
        '570 model keys missing from the reference')


def test_converter_rejects_another_variant(reference_state):
    """A non-deep-supervision checkpoint (``final``) and a 1-channel input
    conv are named, with the shapes."""
    reference = perturbed_state(
        reference_state,
        zeroed={'final.weight': (1, 16, 1, 1),
                'conv0_0.0.conv1.weight': (16, 1, 3, 3)},
        removed=[f'final{index}.{name}' for index in (1, 2, 3, 4)
                 for name in ('weight', 'bias')])
    assert_conversion_fails(
        'dnanet', reference,
        '1 reference keys without a mapping:\n  final.weight',
        '8 model keys missing from the reference:\n  '
        'decode_head.main_conv.bias',
        'backbone.stages.0.0.conv1.weight: reference (16, 1, 3, 3) vs '
        'ours (16, 3, 3, 3)')


@pytest.mark.parametrize('size', [40, 72])
def test_input_side_not_multiple_of_16_raises(size):
    assert_input_rejected(NUDT_CFG, (1, 3, size, 64),
                          f'multiples of 16, got {size}x64')


def test_loss_mode_on_an_empty_target():
    torch.manual_seed(0)
    model = MODELS.build(Config.fromfile(NUDT_CFG).model).train()
    data = model.data_preprocessor(
        dict(inputs=[torch.randint(0, 256, (1, 32, 32), dtype=torch.uint8)
                     for _ in range(2)]), True)
    assert data['inputs'].shape == (2, 3, 32, 32)
    samples = []
    for _ in range(2):
        sample = SegDataSample()
        sample.gt_sem_seg = PixelData(
            data=torch.zeros(1, 32, 32, dtype=torch.long))
        samples.append(sample)
    losses = model(data['inputs'], samples, mode='loss')
    # empty target: each map's loss is 1 - 1 / (sum(p) + 1), weighted 1/4
    # (train mode normalises with batch statistics: the same maps again)
    with torch.no_grad():
        outputs = model.forward_outputs(data['inputs'])
    expected = [0.25 * (1 - 1 / (o.sigmoid().sum().item() + 1))
                for o in outputs]
    names = ['loss_softiou', 'aux1_loss_softiou', 'aux2_loss_softiou',
             'aux3_loss_softiou']
    for name, value in zip(names, expected):
        assert losses[name].item() == pytest.approx(value, rel=1e-3)


def test_init_is_xavier_normal_on_convs():
    torch.manual_seed(0)
    model = MODELS.build(Config.fromfile(NUDT_CFG).model)
    model.init_weights()
    # xavier_normal: std = sqrt(2 / (fan_in + fan_out))
    conv = model.neck.nodes[0][3][0].conv1  # conv0_4: 16*4+32 -> 16
    fan_in, fan_out = 96 * 9, 16 * 9
    assert conv.weight.std().item() == pytest.approx(
        math.sqrt(2 / (fan_in + fan_out)), rel=0.05)
    conv = model.backbone.stages[4][1].conv2  # 256 -> 256, 3x3
    assert conv.weight.std().item() == pytest.approx(
        math.sqrt(2 / (2 * 256 * 9)), rel=0.02)
    # biases keep PyTorch's default U(+-1/sqrt(fan_in)), not zero
    bias = model.backbone.stages[4][1].conv2.bias
    assert 0 < bias.abs().max().item() <= 1 / math.sqrt(256 * 9)
    # BatchNorm untouched
    assert (model.backbone.stages[0][0].bn1.weight == 1).all()
    # the head too (the reference's `final`: 16 -> 1, 1x1): Xavier weight
    # std sqrt(2 / 17), default bias
    head = model.decode_head
    weights = torch.cat([head.main_conv.weight.flatten()] +
                        [conv.weight.flatten() for conv in head.side_convs])
    assert weights.std().item() == pytest.approx(math.sqrt(2 / 17), rel=0.2)
    assert 0 < head.main_conv.bias.abs().item() <= 1 / math.sqrt(16)


@pytest.mark.parametrize('config', [NUDT_CFG, SIRST_CFG])
def test_configs_state_the_reference_recipe(config):
    cfg = Config.fromfile(config)
    optimizer = cfg.optim_wrapper.optimizer
    assert optimizer.type == 'Adagrad'
    # CosineAnnealingLR(T_max=1500, eta_min=1e-5) stepped once, then never
    assert optimizer.lr == pytest.approx(
        1e-5 + (0.05 - 1e-5) * (1 + math.cos(math.pi / 1500)) / 2, abs=1e-15)
    assert cfg.param_scheduler == []
    assert cfg.train_cfg.max_epochs == 1500 and cfg.train_cfg.val_interval == 1
    # shuffled, the last partial batch dropped (the reference's DataLoader)
    assert cfg.train_dataloader.batch_size == 16
    assert cfg.train_dataloader.drop_last is True
    train = [t['type'] for t in cfg.train_dataloader.dataset.pipeline]
    assert train == ['LoadIRSTDImageFromFile', 'LoadIRSTDAnnotations',
                     'RandomFlip', 'RandomRescaleLongSide', 'Pad',
                     'RandomCrop', 'RandomGaussianBlur', 'PackIRSTDInputs']
    rescale = cfg.train_dataloader.dataset.pipeline[3]
    assert rescale.base_size == 256 and rescale.ratio_range == (0.5, 2.0)
    assert cfg.train_dataloader.dataset.pipeline[5].crop_size == (256, 256)
    test = cfg.test_dataloader.dataset.pipeline
    assert test[2] == dict(type='LegacyTestResize', size=256)
    assert cfg.val_dataloader.dataset.pipeline == test
