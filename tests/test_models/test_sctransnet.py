"""SCTransNet: fidelity to the official code's golden vectors, converter,
recipe.

``tests/data/golden/sctransnet.pt`` comes from
``benchmarks/golden/make_sctransnet.py`` (official code at xdFai/SCTransNet
e027628, run in float64). The official weights are not stored: they are
regenerated here from their key names (``meta['recipe']``) and checked
against the stored checksums.
"""
import math
import os.path as osp
import zlib

import pytest
import torch
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper
from mmengine.registry import PARAM_SCHEDULERS
from mmengine.structures import PixelData
from mmseg.structures import SegDataSample

from serankdet import recipes
from serankdet.models.converters import (ConversionError, convert_checkpoint,
                                         convert_state_dict)
from serankdet.models.converters.sctransnet import map_sctransnet_key
from serankdet.models.layers import SpatialChannelCrossTransformer
from serankdet.registry import MODELS

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
GOLDEN = osp.join(REPO_ROOT, 'tests', 'data', 'golden', 'sctransnet.pt')
CONFIGS = osp.join(REPO_ROOT, 'configs', 'sctransnet')
SIRST_CFG = osp.join(CONFIGS, 'sctransnet_1xb16-1000e_sirst-256x256.py')
NUDT_CFG = osp.join(CONFIGS, 'sctransnet_1xb16-1000e_nudt-sirst-256x256.py')
# float64 end to end: only summation order differs from the reference
ATOL_F64 = 1e-10
ATOL_F32 = 1e-5
# our output i is the reference's output REFERENCE_ORDER[i]: ours are
# [out, gt5, gt4, gt3, gt2, d0], the reference's (gt5, gt4, gt3, gt2, d0, out)
REFERENCE_ORDER = [5, 0, 1, 2, 3, 4]
NUM_DROPPED = 4 + 4 * 16  # position embeddings, attention scalars


def golden_value(key, shape):
    """The generated value of a reference key (golden ``meta['recipe']``)."""
    rng = torch.Generator().manual_seed(zlib.crc32(key.encode('utf-8')))
    shape = tuple(shape)
    if len(shape) >= 2:
        return torch.randn(shape, generator=rng) / \
            math.sqrt(math.prod(shape[1:]))
    if key.endswith('running_var'):
        return 0.5 + torch.rand(shape, generator=rng)
    if key.endswith('weight'):
        return 1 + 0.2 * torch.randn(shape, generator=rng)
    return 0.1 * torch.randn(shape, generator=rng)


@pytest.fixture
def one_thread():
    """float32 results depend on the thread count: compare with one."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


@pytest.fixture(scope='module')
def golden():
    return torch.load(GOLDEN, weights_only=True, map_location='cpu')


@pytest.fixture(scope='module')
def reference_state_dict(golden):
    """The official-named state dict the golden outputs were computed with."""
    return {
        key: torch.tensor(5) if key.endswith('num_batches_tracked') else
        golden_value(key, shape)
        for key, shape in golden['shapes'].items()
    }


@pytest.fixture(scope='module')
def converted(reference_state_dict, tmp_path_factory):
    """The golden weights saved as the official train.py saves them
    (``{epoch, state_dict, total_loss}``, keys of its ``Net`` wrapper with
    the ``model.`` prefix), converted as ``official2serankdet.py --model
    sctransnet`` does."""
    folder = tmp_path_factory.mktemp('sctransnet')
    src = str(folder / 'SCTransNet_1000.pth.tar')
    dst = str(folder / 'converted.pth')
    torch.save(dict(epoch=1000,
                    state_dict={f'model.{k}': v
                                for k, v in reference_state_dict.items()},
                    total_loss=[0.5, 0.25]), src)
    notes = convert_checkpoint('sctransnet', src, dst)
    return dict(torch.load(dst, weights_only=True), notes=notes)


def build(state_dict, config=SIRST_CFG):
    model = MODELS.build(Config.fromfile(config).model)
    model.load_state_dict(state_dict, strict=True)
    return model


def as_reference_order(outputs):
    ordered = [None] * len(outputs)
    for ours, ref in enumerate(REFERENCE_ORDER):
        ordered[ref] = outputs[ours]
    return ordered


def test_regenerated_weights_match_checksums(golden, reference_state_dict):
    for key, (total, abs_total) in golden['generated_checksums'].items():
        value = reference_state_dict[key].double()
        assert value.sum().item() == pytest.approx(total, rel=1e-9, abs=1e-9)
        assert value.abs().sum().item() == pytest.approx(abs_total, rel=1e-9)


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
    model = build(converted['state_dict']).double().eval()
    with torch.no_grad():
        outputs = model.forward_outputs(golden['input'].double())
        main = model(golden['input'].double(), mode='tensor')
    assert len(outputs) == 6 and main.shape == (2, 1, 48, 64)
    for name, ours, ref in zip(golden['output_names'],
                               as_reference_order(outputs), golden['output']):
        torch.testing.assert_close(ours, ref, atol=ATOL_F64, rtol=0,
                                   msg=lambda m: f'{name}: {m}')
    # the reference tests sigmoid(out): our main output
    torch.testing.assert_close(main.sigmoid(), golden['output_test_mode'],
                               atol=ATOL_F64, rtol=0)


def test_float32_main_output_matches_reference(golden, converted,
                                               one_thread):
    model = build(converted['state_dict']).eval()
    with torch.no_grad():
        logits = model(golden['input'], mode='tensor')
    torch.testing.assert_close(logits, golden['output_f32'], atol=ATOL_F32,
                               rtol=0)


def test_train_forward_and_bn_buffers_match_reference(golden, converted):
    model = build(converted['state_dict']).double().train()
    with torch.no_grad():
        outputs = model.forward_outputs(golden['train_input'].double())
    for name, ours, ref in zip(golden['output_names'],
                               as_reference_order(outputs),
                               golden['train_output']):
        torch.testing.assert_close(ours, ref, atol=ATOL_F64, rtol=0,
                                   msg=lambda m: f'{name}: {m}')
    state = model.state_dict()
    reference = golden['bn_buffers_after_train_forward']
    for key, value in reference.items():
        torch.testing.assert_close(state[map_sctransnet_key(key)], value,
                                   atol=ATOL_F64, rtol=0)
    # 14 BatchNorms in the encoder (two per block, four shortcuts), 4 in
    # the reconstructions, 8 in the decoder: (running mean, var, count) each
    assert len(reference) == 3 * 26


def test_training_loss_is_the_reference_bce_sum(golden, converted):
    model = build(converted['state_dict']).double().train()
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


def test_converter_rejects_a_foreign_checkpoint(reference_state_dict):
    reference = dict(reference_state_dict)
    reference['extra.weight'] = reference.pop('outconv.weight')
    # a 3-channel input layer (another model's or variant's)
    reference['inc.0.conv1.weight'] = torch.zeros(32, 3, 3, 3)
    with pytest.raises(ConversionError) as err:
        convert_state_dict('sctransnet', reference)
    message = str(err.value)
    assert 'not a "sctransnet" checkpoint' in message
    assert '1 reference keys without a mapping:\n  extra.weight' in message
    assert 'model keys missing from the reference:\n  ' \
        'decode_head.fuse_conv.weight' in message
    assert 'backbone.stages.0.conv1.weight: reference (32, 3, 3, 3) vs ' \
        'ours (32, 1, 3, 3)' in message


def test_converter_accepts_other_img_size_position_embeddings(
        reference_state_dict, converted):
    """The reference's img_size only shapes the unused position
    embeddings: a checkpoint of a 512 model converts the same."""
    reference = dict(reference_state_dict)
    for level, channels in enumerate((32, 64, 128, 256), 1):
        reference[f'mtc.embeddings_{level}.position_embeddings'] = \
            torch.zeros(1, 32 * 32, channels)
    state_dict, notes = convert_state_dict('sctransnet', reference)
    assert notes == converted['notes']
    assert state_dict.keys() == converted['state_dict'].keys()


@pytest.mark.parametrize('height', [40, 56])
def test_input_side_not_multiple_of_16_raises(height):
    model = MODELS.build(Config.fromfile(SIRST_CFG).model).eval()
    with pytest.raises(ValueError,
                       match=f'multiples of 16, got {height}x64'):
        model(torch.rand(1, 1, height, 64), mode='tensor')


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
    assert crop.crop_size == (256, 256)
    assert cfg.optim_wrapper.optimizer.lr == 1e-3
    assert cfg.train_cfg.max_epochs == 1000
    assert cfg.param_scheduler == recipes.sctransnet_param_scheduler(1000)
