"""MSHNet: fidelity to the official code (golden vectors made by
benchmarks/golden/make_mshnet.py), the SLS loss, the warm-up switch, the
converter and the configs."""
import json
import math
import os.path as osp
import textwrap
import types

import pytest
import torch
from mmengine.config import Config

from serankdet.apis.conversion import convert_state_dict
from serankdet.engine.hooks import SetEpochHook
from serankdet.models.converters import ConversionError
from serankdet.models.converters.mshnet import map_mshnet_key
from serankdet.models.losses import SLSIoULoss
from serankdet.registry import MODELS
from serankdet.testing.seeded_weights import mshnet_seeded_state_dict
from .golden_utils import (CONFIG_DIR, assert_buffers_match, assert_checksums,
                           assert_conversion_fails, assert_input_rejected,
                           assert_maps_close, build_model, load_golden,
                           perturbed_state)

CONFIGS = {
    name: osp.join(CONFIG_DIR, 'mshnet',
                   f'mshnet_1xb4-400e_{name}-256x256.py')
    for name in ('irstd1k', 'nudt-sirst')
}
ATOL32 = 1e-5


@pytest.fixture(scope='module')
def golden():
    return load_golden('mshnet')


@pytest.fixture(scope='module')
def reference_state(golden):
    state = mshnet_seeded_state_dict(golden['reference_shapes'])
    assert_checksums(state, golden['checksums'])
    return state


@pytest.fixture(scope='module')
def converted(reference_state):
    state_dict, notes = convert_state_dict('mshnet', reference_state)
    assert notes == []
    return state_dict


def build(state_dict=None, config='irstd1k', dtype=torch.float32):
    return build_model(CONFIGS[config], state_dict, dtype)


def set_epoch(model, epoch):
    model.decode_head.set_epoch(epoch)
    for loss_fn in model.decode_head.loss_decode:
        loss_fn.set_epoch(epoch)


def test_weights_regenerate_as_stored(golden, reference_state):
    # reference_state was checked against every stored checksum
    assert len(golden['checksums']) == 300 and len(reference_state) == 340


def test_param_count_equals_reference(golden):
    ours = sum(p.numel() for p in build().parameters())
    assert ours == golden['num_params'] == 4065513


def test_converter_maps_every_reference_key(reference_state, converted):
    assert len(converted) == len(reference_state)
    assert map_mshnet_key('conv_init.weight') == 'backbone.stem.weight'
    assert map_mshnet_key('module.middle_layer.1.sa.conv1.weight') == \
        'backbone.stages.4.1.sa.conv.weight'
    assert map_mshnet_key('decoder_3.0.shortcut.1.running_var') == \
        'neck.stages.3.0.shortcut.1.running_var'
    assert map_mshnet_key('output_2.bias') == \
        'decode_head.side_convs.2.bias'
    assert map_mshnet_key('final.weight') == 'decode_head.fuse_conv.weight'
    for key, value in reference_state.items():
        assert converted[map_mshnet_key(key)] is value


def test_eval_outputs_match_reference(golden, converted):
    model = build(converted, dtype=torch.float64).eval()
    with torch.no_grad():
        outputs = model.forward_outputs(golden['input'])
        main = model(golden['input'], mode='tensor')
    assert [o.shape[-1] for o in outputs] == [64, 64, 32, 16, 8]
    assert golden['eval_output'].std() > 0.1  # not a degenerate output
    assert_maps_close(outputs, [golden['eval_output'], *golden['eval_masks']])
    assert_maps_close([main], [golden['eval_output']])


def test_warm_up_predicts_from_the_finest_scale(golden, converted):
    model = build(converted, dtype=torch.float64).eval()
    set_epoch(model, 5)  # the last warm-up epoch (epoch <= warm_epoch)
    with torch.no_grad():
        outputs = model.forward_outputs(golden['input'])
    assert_maps_close(outputs, [golden['eval_output_warm_up']])
    set_epoch(model, 6)
    with torch.no_grad():
        main = model(golden['input'], mode='tensor')
    assert_maps_close([main], [golden['eval_output']])


def test_float32_eval_output_matches_reference(golden, converted,
                                               one_thread):
    model = build({k: v.float() if v.is_floating_point() else v
                   for k, v in converted.items()}).eval()
    with torch.no_grad():
        main = model(golden['input'].float(), mode='tensor')
    assert_maps_close([main], [golden['eval_output_f32']], atol=ATOL32)


def test_train_forward_and_bn_buffers_match_reference(golden, converted):
    model = build(converted, dtype=torch.float64).train()
    with torch.no_grad():
        outputs = model.forward_outputs(golden['train_input'])
    assert_maps_close(outputs,
                      [golden['train_output'], *golden['train_masks']])
    buffers = golden['bn_buffers_after_train_forward']
    # 40 BatchNorms x (mean, var, count)
    assert assert_buffers_match(model, buffers, map_mshnet_key) == 3 * 40
    assert buffers['encoder_0.0.bn1.num_batches_tracked'] == 8


@pytest.mark.parametrize('epoch,key', [(6, 'train_loss'),
                                       (3, 'train_loss_warm_up')])
def test_training_loss_matches_reference(golden, converted, epoch, key):
    """The head's deep-supervised loss equals main.py's on the same batch."""
    model = build(converted, dtype=torch.float64).train()
    set_epoch(model, epoch)
    with torch.no_grad():
        outputs = model.forward_outputs(golden['train_input'])
        losses = model.decode_head.loss_by_outputs(outputs,
                                                   golden['train_target'])
    expected_keys = ['loss_sls'] + [f'aux{i}_loss_sls' for i in range(1, 5)]
    assert sorted(losses) == sorted(expected_keys[:len(outputs)])
    assert len(outputs) == (1 if epoch <= 5 else 5)
    total = sum(losses.values())
    assert total.item() == pytest.approx(golden[key].item(), abs=1e-10)


@pytest.mark.parametrize('case_index', [0, 1, 2])
def test_sls_loss_matches_reference(golden, case_index):
    case = golden['sls_cases'][case_index]
    loss_fn = SLSIoULoss(warm_up_epochs=5, with_location=case['with_shape'])
    loss_fn.set_epoch(case['epoch'])
    logits = golden['sls_logits'].clone().requires_grad_(True)
    value = loss_fn(logits, golden['sls_target'])
    value.backward()
    assert value.item() == pytest.approx(case['loss'].item(), abs=1e-12)
    torch.testing.assert_close(logits.grad, case['grad'], atol=1e-12,
                               rtol=0)


def test_sls_loss_by_hand():
    """One 2x2 image, logits 0 (p = 1/2), target one pixel at (0, 0)."""
    logits = torch.zeros(1, 1, 2, 2, dtype=torch.float64)
    target = torch.zeros(1, 1, 2, 2, dtype=torch.float64)
    target[0, 0, 0, 0] = 1
    loss_fn = SLSIoULoss(warm_up_epochs=0, with_location=False)
    loss_fn.set_epoch(0)
    iou = 0.5 / (2 + 1 - 0.5)
    assert loss_fn(logits, target).item() == pytest.approx(1 - iou)
    loss_fn.set_epoch(1)
    dist = ((2 - 1) / 2)**2
    alpha = (1 + dist) / (2 + dist)
    assert loss_fn(logits, target).item() == pytest.approx(1 - alpha * iou)
    # location: pred centre (mean(x p), mean(y p)) = (1/8, 1/8), target (0, 0)
    eps = 1e-8
    length = math.sqrt(2 / 64 + eps)
    ratio = math.sqrt(eps) / (length + eps)
    angle = 4 / math.pi**2 * (math.atan(1 / 8 / (1 / 8 + eps)))**2
    loss_fn.with_location = True
    assert loss_fn(logits, target).item() == pytest.approx(
        1 - alpha * iou + 1 - ratio + angle)


def test_set_epoch_hook_switches_head_and_loss(converted):
    model = build()
    hook = SetEpochHook()
    for epoch, warming_up in ((0, True), (5, True), (6, False)):
        hook.before_train_epoch(types.SimpleNamespace(model=model,
                                                      epoch=epoch))
        assert model.decode_head.warming_up is warming_up
        assert model.decode_head.loss_decode[0].warming_up is warming_up
    # a model built for testing is in its trained (fused) state
    assert build().decode_head.warming_up is False


def test_head_rejects_output_weights_and_odd_sizes():
    cfg = Config.fromfile(CONFIGS['irstd1k']).model.decode_head
    with pytest.raises(ValueError, match='weights its outputs equally'):
        MODELS.build(dict(cfg, output_weights=(1, 1, 1, 1, 1)))
    head = MODELS.build(cfg)
    with pytest.raises(ValueError, match=r'output of size \(24, 24\) is not'):
        head.loss_by_outputs([torch.zeros(1, 1, 24, 24)],
                             torch.zeros(1, 1, 64, 64))


def test_input_side_not_multiple_of_16_raises():
    assert_input_rejected(CONFIGS['irstd1k'], (1, 3, 40, 64),
                          'multiples of 16, got 40x64')


def test_converter_rejects_a_foreign_checkpoint(reference_state):
    foreign = perturbed_state(
        reference_state, renamed={'final.weight': 'model.inc.0.conv1.weight'},
        zeroed={'conv_init.weight': (16, 1, 1, 1)})
    assert_conversion_fails(
        'mshnet', foreign, 'not a "mshnet" checkpoint',
        '1 reference keys without a mapping:\n  model.inc.0.conv1.weight',
        'model keys missing from the reference:\n  '
        'decode_head.fuse_conv.weight',
        'backbone.stem.weight: reference (16, 1, 1, 1) vs ours '
        '(16, 3, 1, 1)')


@pytest.mark.parametrize('name', sorted(CONFIGS))
def test_configs_state_the_reference_recipe(name):
    cfg = Config.fromfile(CONFIGS[name])
    assert cfg.optim_wrapper.optimizer == dict(
        type='Adagrad', lr=0.05, lr_decay=0.0, weight_decay=0.0,
        initial_accumulator_value=0.0, eps=1e-10)
    assert cfg.param_scheduler == []
    assert cfg.train_cfg == dict(type='EpochBasedTrainLoop', max_epochs=400,
                                 val_interval=1)
    # the last partial batch dropped, as the reference's DataLoader
    assert cfg.train_dataloader.batch_size == 4
    assert cfg.train_dataloader.drop_last is True
    assert dict(type='SetEpochHook') in cfg.custom_hooks
    assert cfg.model.decode_head.warm_up_epochs == 5
    assert cfg.model.decode_head.loss_decode.warm_up_epochs == 5
    train = {t['type']: t for t in cfg.train_dataloader.dataset.pipeline}
    assert train['RandomRescaleLongSide']['base_size'] == 256
    assert train['RandomCrop']['crop_size'] == (256, 256)
    test = {t['type']: t for t in cfg.test_dataloader.dataset.pipeline}
    assert test['LegacyTestResize']['size'] == 256
    assert cfg.val_dataloader.dataset.pipeline == \
        cfg.test_dataloader.dataset.pipeline


def test_training_switches_after_the_warm_up_epochs(tmp_path):
    """tools/train.py on a tiny synthetic set, warm-up of one epoch: epoch
    0 supervises the finest map only, epoch 1 all five maps."""
    from tests.tool_runner import run_tool_cli
    data = dict(type='SyntheticIRSTDDataset', data_root=str(tmp_path / 'd'),
                num_train=8, num_test=2, img_size=(64, 64), seed=1)
    config = tmp_path / 'tiny_mshnet.py'
    config.write_text(textwrap.dedent(f'''
        _base_ = [{CONFIGS['nudt-sirst']!r}]
        from serankdet import recipes  # noqa: E402
        model = dict(
            backbone=dict(channels=(16, ) * 5, num_blocks=(1, ) * 5),
            neck=dict(in_channels=(16, ) * 5, num_blocks=(1, ) * 4),
            decode_head=dict(in_channels=(16, ) * 4, warm_up_epochs=0,
                             loss_decode=dict(warm_up_epochs=0)))
        loader = dict(num_workers=0, persistent_workers=False)
        train_dataloader = dict(**loader, dataset=dict(
            {data!r}, pipeline=recipes.train_pipeline(64, (64, 64))))
        val_dataloader = dict(**loader, dataset=dict(
            {data!r}, pipeline=recipes.legacy_test_pipeline(64)))
        test_dataloader = val_dataloader
        train_cfg = dict(max_epochs=2)
        default_hooks = dict(logger=dict(interval=1))
        '''))
    work_dir = tmp_path / 'work'
    assert run_tool_cli('train', str(config), '--work-dir',
                        str(work_dir)) == 0
    scalars, = work_dir.glob('**/vis_data/scalars.json')
    logged = [json.loads(line) for line in scalars.read_text().splitlines()]
    losses = [{k for k in entry if 'loss_sls' in k} for entry in logged
              if 'loss' in entry]
    side_keys = {f'aux{i}_loss_sls' for i in range(1, 5)}
    assert [len(keys & side_keys) for keys in losses] == [0, 0, 4, 4]


def test_converter_takes_the_3x3_side_conv_variant(tmp_path, golden):
    """The reference keeps 3x3 side convs in a comment: such a checkpoint
    converts with a config that says so, and only with it."""
    shapes = dict(golden['reference_shapes'])
    for index, channels in enumerate((16, 32, 64, 128)):
        shapes[f'output_{index}.weight'] = [1, channels, 3, 3]
    state = mshnet_seeded_state_dict(shapes)
    with pytest.raises(ConversionError,
                       match=r'side_convs.0.weight: reference \(1, 16, 3, 3'):
        convert_state_dict('mshnet', state)
    config = tmp_path / 'mshnet_side3x3.py'
    config.write_text(f'_base_ = [{CONFIGS["irstd1k"]!r}]\n'
                      'model = dict(decode_head=dict(side_kernel_size=3))\n')
    converted, _ = convert_state_dict('mshnet', state, str(config))
    assert build().decode_head.side_convs[0].kernel_size == (1, 1)
    model = MODELS.build(Config.fromfile(str(config)).model).double()
    model.load_state_dict(converted, strict=True)
    assert model.decode_head.side_convs[3].padding == (1, 1)
