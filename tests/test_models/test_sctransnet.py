"""SCTransNet: fidelity to the official code's golden vectors, converter,
recipe.

``tests/data/golden/sctransnet.pt`` comes from
``benchmarks/golden/make_sctransnet.py`` (official code at xdFai/SCTransNet
e027628, run in float64). The official weights are not stored: they are
regenerated here from their key names
(``serankdet/testing/seeded_weights.py``) and checked against the stored
checksums.
"""
import math
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper
from mmengine.registry import PARAM_SCHEDULERS
from mmengine.structures import PixelData
from mmseg.structures import SegDataSample

from serankdet import recipes
from serankdet.apis.conversion import convert_state_dict
from serankdet.models.converters.sctransnet import map_sctransnet_key
from serankdet.models.layers import SpatialChannelCrossTransformer
from serankdet.registry import MODELS
from .golden_utils import (CONFIG_DIR, assert_buffers_match,
                           assert_conversion_fails, assert_input_rejected,
                           assert_maps_close, build_model,
                           converted_checkpoint, load_golden, perturbed_state,
                           reference_state_dict)

CONFIGS = osp.join(CONFIG_DIR, 'sctransnet')
SIRST_CFG = osp.join(CONFIGS, 'sctransnet_1xb16-1000e_sirst-256x256.py')
NUDT_CFG = osp.join(CONFIGS, 'sctransnet_1xb16-1000e_nudt-sirst-256x256.py')
ATOL_F32 = 1e-5
# our output i is the reference's output REFERENCE_ORDER[i]: ours are
# [out, gt5, gt4, gt3, gt2, d0], the reference's (gt5, gt4, gt3, gt2, d0, out)
REFERENCE_ORDER = [5, 0, 1, 2, 3, 4]
NUM_DROPPED = 4 + 4 * 16  # position embeddings, attention scalars


@pytest.fixture(scope='module')
def golden():
    return load_golden('sctransnet')


@pytest.fixture(scope='module')
def reference_state(golden):
    return reference_state_dict(golden, torch.float32, num_batches_tracked=5)


@pytest.fixture(scope='module')
def converted(reference_state, tmp_path_factory):
    """The golden weights saved as the official train.py saves them
    (``{epoch, state_dict, total_loss}``, keys of its ``Net`` wrapper with
    the ``model.`` prefix), converted as ``official2serankdet.py --model
    sctransnet`` does."""
    checkpoint = dict(epoch=1000,
                      state_dict={f'model.{k}': v
                                  for k, v in reference_state.items()},
                      total_loss=[0.5, 0.25])
    return converted_checkpoint('sctransnet', checkpoint,
                                tmp_path_factory.mktemp('sctransnet'),
                                'SCTransNet_1000.pth.tar')


def build(state_dict, dtype=torch.float32):
    return build_model(SIRST_CFG, state_dict, dtype)


def as_reference_order(outputs):
    ordered = [None] * len(outputs)
    for ours, ref in enumerate(REFERENCE_ORDER):
        ordered[ref] = outputs[ours]
    return ordered


def test_regenerated_weights_match_checksums(golden, reference_state):
    # reference_state_dict checked every floating entry against its checksum
    assert len(reference_state) == len(golden['shapes']) == 510


def test_converter_drops_unused_weights_with_notes(golden, converted):
    assert converted['notes'] == [
        'dropped 4 keys: position embeddings built by the reference but '
        'never used in its forward; not part of the model',
        'dropped 64 keys: attention scalars (q<i>_attn<j>) built by the '
        'reference but never used in its forward; not part of the model'
    ]
    assert len(converted['state_dict']) == len(golden['shapes']) - \
        NUM_DROPPED
    assert converted['meta']['model'] == 'sctransnet'


def test_param_count_is_the_official_without_unused_weights(golden):
    model = MODELS.build(Config.fromfile(SIRST_CFG).model)
    ours = sum(p.numel() for p in model.parameters())
    unused = sum(
        math.prod(shape) for key, shape in golden['shapes'].items()
        if map_sctransnet_key(key) is None)
    assert golden['meta']['params'] == 11325939
    assert ours == golden['meta']['params'] - unused == 11202995


def test_eval_outputs_match_reference(golden, converted):
    model = build(converted['state_dict'], torch.float64).eval()
    with torch.no_grad():
        outputs = model.forward_outputs(golden['input'].double())
        main = model(golden['input'].double(), mode='tensor')
    assert len(outputs) == 6 and main.shape == (2, 1, 48, 64)
    assert_maps_close(as_reference_order(outputs), golden['output'],
                      golden['output_names'])
    # the reference tests sigmoid(out): our main output
    assert_maps_close([main.sigmoid()], [golden['output_test_mode']])


def test_float32_main_output_matches_reference(golden, converted,
                                               one_thread):
    model = build(converted['state_dict']).eval()
    with torch.no_grad():
        logits = model(golden['input'], mode='tensor')
    assert_maps_close([logits], [golden['output_f32']], atol=ATOL_F32)


def test_train_forward_and_bn_buffers_match_reference(golden, converted):
    model = build(converted['state_dict'], torch.float64).train()
    with torch.no_grad():
        outputs = model.forward_outputs(golden['train_input'].double())
    assert_maps_close(as_reference_order(outputs), golden['train_output'],
                      golden['output_names'])
    buffers = golden['bn_buffers_after_train_forward']
    # 14 BatchNorms in the encoder (two per block, four shortcuts), 4 in
    # the reconstructions, 8 in the decoder: (running mean, var, count) each
    assert assert_buffers_match(model, buffers, map_sctransnet_key) == 3 * 26


def test_training_loss_is_the_reference_bce_sum(golden, converted):
    model = build(converted['state_dict'], torch.float64).train()
    samples = []
    for mask in golden['train_target']:
        sample = SegDataSample()
        sample.gt_sem_seg = PixelData(data=mask.long())
        samples.append(sample)
    losses = model(golden['train_input'].double(), samples, mode='loss')
    assert set(losses) == {'loss_bce'} | {
        f'aux{i}_loss_bce' for i in range(1, 6)}
    total = sum(losses.values())
    assert total.item() == pytest.approx(golden['train_loss'].item(),
                                         rel=1e-9)


def test_converter_rejects_a_foreign_checkpoint(reference_state):
    # a 3-channel input layer (another model's or variant's)
    reference = perturbed_state(
        reference_state, renamed={'outconv.weight': 'extra.weight'},
        zeroed={'inc.0.conv1.weight': (32, 3, 3, 3)})
    assert_conversion_fails(
        'sctransnet', reference, 'not a "sctransnet" checkpoint',
        '1 reference keys without a mapping:\n  extra.weight',
        'model keys missing from the reference:\n  '
        'decode_head.fuse_conv.weight',
        'backbone.stages.0.conv1.weight: reference (32, 3, 3, 3) vs '
        'ours (32, 1, 3, 3)')


def test_converter_accepts_other_img_size_position_embeddings(
        reference_state, converted):
    """The reference's img_size only shapes the unused position
    embeddings: a checkpoint of a 512 model converts the same."""
    reference = dict(reference_state)
    for level, channels in enumerate((32, 64, 128, 256), 1):
        reference[f'mtc.embeddings_{level}.position_embeddings'] = \
            torch.zeros(1, 32 * 32, channels)
    state_dict, notes = convert_state_dict('sctransnet', reference)
    assert notes == converted['notes']
    assert state_dict.keys() == converted['state_dict'].keys()


@pytest.mark.parametrize('height', [40, 56])
def test_input_side_not_multiple_of_16_raises(height):
    assert_input_rejected(SIRST_CFG, (1, 1, height, 64),
                          f'multiples of 16, got {height}x64')


def test_transformer_rejects_levels_off_the_token_grid():
    transformer = SpatialChannelCrossTransformer(
        channels=(4, 8), patch_sizes=(4, 2), num_layers=1)
    with pytest.raises(ValueError, match=r'level sizes \[\(16, 16\), '
                       r'\(6, 8\)\] do not tile'):
        transformer([torch.rand(1, 4, 16, 16), torch.rand(1, 8, 6, 8)])


# stepped without training: no optimizer.step() before scheduler.step()
@pytest.mark.filterwarnings('ignore:Detected call of')
def test_param_scheduler_is_the_reference_warmup_cosine():
    """lr per epoch against the reference's closed form (warm-up from 0
    over 10 epochs, lr again at epoch 11, cosine over 990 epochs)."""
    base, eta_min, epochs = 1e-3, 1e-5, 1000
    wrapper = build_optim_wrapper(
        torch.nn.Linear(1, 1),
        dict(type='OptimWrapper', optimizer=dict(type='Adam', lr=base)))
    schedulers = [
        PARAM_SCHEDULERS.build(dict(cfg, optimizer=wrapper))
        for cfg in recipes.sctransnet_param_scheduler(epochs)
    ]
    for epoch in range(epochs):
        if epoch <= 10:
            expected = base * epoch / 10
        else:
            expected = eta_min + (base - eta_min) * (
                1 + math.cos(math.pi * (epoch - 11) / 990)) / 2
        lr = wrapper.param_groups[0]['lr']
        # epoch 0: 1e-9 in place of 0 (see the recipe)
        assert lr == pytest.approx(expected, rel=1e-9, abs=1.01e-9), epoch
        for scheduler in schedulers:
            scheduler.step()


def test_init_follows_reference_kaiming():
    torch.manual_seed(0)
    model = MODELS.build(Config.fromfile(NUDT_CFG).model)
    model.init_weights()
    # kaiming_normal(fan_in, gain sqrt(2)) on the (480, 480) key projection
    weight = model.neck.transformer.layers[0].attention.key[0].weight
    assert weight.std().item() == pytest.approx(math.sqrt(2 / 480),
                                                rel=0.02)
    # conv biases keep PyTorch's default U(+-1/sqrt(fan_in)), as the
    # reference's: std 1/sqrt(3 * 128 * 9) for a 128 -> 256 3x3 conv
    bias = model.backbone.stages[3].conv1.bias
    assert bias.std().item() == pytest.approx(1 / math.sqrt(3 * 128 * 9),
                                              rel=0.2)
    bn = model.backbone.stages[2].bn1
    assert bn.weight.mean().item() == pytest.approx(1.0, abs=0.01)
    assert bn.weight.std().item() == pytest.approx(0.02, rel=0.3)
    assert bn.bias.abs().max() == 0


@pytest.mark.parametrize('name,mean,std', [
    ('sirst-256x256', 101.06385040283203, 34.619606018066406),
    ('nudt-sirst-256x256', 107.80905151367188, 33.02274703979492),
    ('irstd1k-256x256', 87.4661865234375, 39.71953201293945),
])
def test_configs_use_the_reference_statistics_and_recipe(name, mean, std):
    cfg = Config.fromfile(
        osp.join(CONFIGS, f'sctransnet_1xb16-1000e_{name}.py'))
    preprocessor = cfg.model.data_preprocessor
    assert preprocessor.mean[0] * 255 == pytest.approx(mean)
    assert preprocessor.std[0] * 255 == pytest.approx(std)
    assert preprocessor.size_divisor == 32
    assert cfg.train_dataloader.batch_size == 16
    pad, crop = cfg.train_dataloader.dataset.pipeline[2:4]
    # padding with the mean gray level: 0 after normalisation
    assert pad.pad_val.img == round(mean)
    # SCTransNet's random_crop(img, mask, 256, pos_prob=0.5)
    assert (crop.type, crop.crop_size, crop.target_prob, crop.rule) == (
        'TargetBiasedRandomCrop', (256, 256), 0.5, 'redraw')
    assert cfg.optim_wrapper.optimizer.lr == 1e-3
    assert cfg.train_cfg.max_epochs == 1000
    assert cfg.param_scheduler == recipes.sctransnet_param_scheduler(1000)
