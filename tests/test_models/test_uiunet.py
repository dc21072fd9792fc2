"""UIU-Net: official-weight conversion, golden outputs, loss, recipe.

``tests/data/golden/uiunet.pt`` (``benchmarks/golden/make_uiunet.py``,
danfenghong/IEEE_TIP_UIU-Net @ 625023a) holds the official network's outputs
for weights regenerated here from their official key names
(``serankdet/testing/seeded_weights.py``), in float64: the 7 logit maps in
eval and train mode, the BatchNorm buffers after the train forward and the
official training loss. Runtime: about 15 s, most of it the two float64
forward passes.
"""
import os.path as osp
import runpy

import pytest
import torch
from mmengine.config import Config

from serankdet.apis import init_model
from serankdet.apis.conversion import convert_state_dict
from serankdet.models.converters import ConversionError
from serankdet.models.converters.uiunet import map_uiunet_key
from serankdet.models.heads import SideFusionHead
from serankdet.models.layers import RSUBlock
from serankdet.models.necks import UIUNetDecoder
from serankdet.registry import MODELS
from .golden_utils import (CONFIG_DIR, REPO_ROOT, assert_buffers_match,
                           assert_conversion_fails, assert_maps_close,
                           load_golden, perturbed_state, reference_state_dict)

MODEL_CONFIG = osp.join(CONFIG_DIR, '_base_', 'models', 'uiunet.py')
CONVERTER = osp.join(REPO_ROOT, 'tools', 'model_converters',
                     'official2serankdet.py')


@pytest.fixture(scope='module')
def golden():
    return load_golden('uiunet')


@pytest.fixture(scope='module')
def reference_state(golden):
    return reference_state_dict(golden, torch.float32, num_batches_tracked=5)


@pytest.fixture(scope='module')
def converted_model(reference_state, tmp_path_factory):
    """The official state dict saved bare (as train.py saves it), converted
    by the CLI and loaded with ``init_model`` (strict), in float64."""
    folder = tmp_path_factory.mktemp('uiunet_ckpt')
    src, dst = folder / 'uiunet.pth', folder / 'converted.pth'
    torch.save(reference_state, src)
    main = runpy.run_path(CONVERTER)['main']
    assert main(['--model', 'uiunet', str(src), str(dst)]) == 0
    return init_model(MODEL_CONFIG, str(dst)).double()


def test_golden_eval_float64(converted_model, golden):
    model = converted_model.eval()
    assert golden['output_sigmoid_max_diff'] == 0
    with torch.no_grad():
        outputs = model.forward_outputs(golden['input'].double())
        main = model(golden['input'].double(), mode='tensor')
    assert len(outputs) == 7 and outputs[0].shape == (2, 1, 64, 40)
    assert_maps_close(outputs, golden['output'])  # dtypes too: float64
    assert_maps_close([main], golden['output'][:1])


def test_golden_train_float64_buffers_and_loss(converted_model, golden):
    model = converted_model.train()
    with torch.no_grad():
        outputs = model.forward_outputs(golden['train_input'].double())
        losses = model.decode_head.loss_by_outputs(outputs,
                                                   golden['train_target'])
    # In train mode IC-A's channel attention normalises a globally pooled
    # (2, C, 1, 1) tensor: two values per channel, nearly equal (mean/std up
    # to 1e7), so BatchNorm amplifies float64 rounding ~1e7 times. The order
    # of the float64 sums differs between CPUs (1e-14 per BatchNorm call),
    # which moves the outputs by up to 3e-7 between machines (a two-pass
    # BatchNorm in place of torch's moves them 1.6e-6), while scaling one
    # decoder conv's weights by 1.01 moves them 2e-3. The running statistics
    # and the loss inherit it (6e-10 and 6e-11 relative measured).
    assert_maps_close(outputs, golden['train_output'], atol=1e-5)
    # 132 BatchNorms x (mean, var, count); IC-A's post BN counted twice
    assert assert_buffers_match(
        model, golden['bn_buffers_after_train_forward'], map_uiunet_key,
        atol=1e-8) == 396
    assert model.state_dict()[
        'neck.attentions.1.post.1.num_batches_tracked'] == 7
    # train.py: nn.BCELoss on the 7 sigmoid maps, summed
    assert sorted(losses) == sorted(
        ['loss_bce'] + [f'aux{i}_loss_bce' for i in range(1, 7)])
    total = sum(losses.values())
    assert total.item() == pytest.approx(golden['train_loss'].item(),
                                         rel=1e-9)


def test_parameter_count_and_keys_match_reference(golden):
    with torch.device('meta'):
        model = MODELS.build(Config.fromfile(MODEL_CONFIG).model)
    assert sum(p.numel() for p in model.parameters()) == \
        golden['meta']['params'] == 50_541_461
    ours = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    mapped = {map_uiunet_key(k): shape
              for k, shape in golden['shapes'].items()}
    assert mapped == ours  # one to one, shapes included (942 keys)


def test_key_mapping_examples():
    assert map_uiunet_key('stage1.rebnconvin.conv_s1.weight') == \
        'backbone.stages.0.conv_in.0.weight'
    # RSU-7: rebnconv7 is the dilated bottom, rebnconv6 the last encoder
    assert map_uiunet_key('stage1.rebnconv7.bn_s1.running_var') == \
        'backbone.stages.0.bottom_conv.1.running_var'
    assert map_uiunet_key('module.stage1.rebnconv6.conv_s1.bias') == \
        'backbone.stages.0.encoder_convs.5.0.bias'
    assert map_uiunet_key('stage4d.rebnconv1d.conv_s1.weight') == \
        'neck.blocks.3.decoder_convs.0.0.weight'
    assert map_uiunet_key('stage5.rebnconv4.conv_s1.weight') == \
        'backbone.stages.4.bottom_conv.0.weight'
    assert map_uiunet_key('fuse2.bottomup.3.conv1.weight') == \
        'neck.attentions.1.spatial_gate.3.conv.weight'
    assert map_uiunet_key('fuse5.topdown.4.bias') == \
        'neck.attentions.4.channel_gate.4.bias'
    assert map_uiunet_key('side6.weight') == 'decode_head.side_convs.5.weight'
    assert map_uiunet_key('outconv.bias') == 'decode_head.fuse_conv.bias'
    assert map_uiunet_key('fuse1.post.0.weight') is None


def test_converter_rejects_a_wrong_checkpoint(reference_state):
    # the 1-channel variant of other toolboxes (BasicIRSTD) is not UIUNET(3, 1)
    reference = perturbed_state(
        reference_state, renamed={'outconv.bias': 'stage1.extra.weight'},
        zeroed={'stage1.rebnconvin.conv_s1.weight': (64, 1, 3, 3)})
    assert_conversion_fails(
        'uiunet', reference, 'not a "uiunet" checkpoint',
        '1 reference keys without a mapping:\n  stage1.extra.weight',
        '1 model keys missing from the reference:\n  '
        'decode_head.fuse_conv.bias',
        'backbone.stages.0.conv_in.0.weight: reference (64, 1, 3, 3) vs '
        'ours (64, 3, 3, 3)')


def test_converter_rejects_a_foreign_model():
    foreign = {'model.inc.0.conv1.weight': torch.zeros(16, 1, 3, 3),
               'model.outc.1.weight': torch.zeros(1, 16, 1, 1)}
    with pytest.raises(ConversionError,
                       match=r'2 reference keys without a mapping'):
        convert_state_dict('uiunet', foreign)


def test_rsu_block_handles_odd_sizes_and_checks_depth():
    block = RSUBlock(2, 4, 3, depth=5).eval()
    # 23 x 9 -> 12 x 5 -> 6 x 3 -> 3 x 2 (ceil_mode), upsampled back
    assert block(torch.randn(1, 2, 23, 9)).shape == (1, 3, 23, 9)
    dilated = RSUBlock(2, 4, 3, depth=4, dilated=True)
    assert [conv[0].dilation[0] for conv in dilated.encoder_convs] == [1, 2, 4]
    assert dilated.bottom_conv[0].dilation[0] == 8
    assert [conv[0].dilation[0] for conv in dilated.decoder_convs] == [1, 2, 4]
    with pytest.raises(ValueError, match='depth must be at least 2, got 1'):
        RSUBlock(2, 4, 3, depth=1)


def test_decoder_and_head_check_their_arguments():
    with pytest.raises(ValueError, match=r'attention_levels \[5\] are not '
                       r'decoder levels 0\.\.4'):
        UIUNetDecoder(attention_levels=(1, 5))
    with pytest.raises(ValueError, match='6 encoder features need 5 values'):
        UIUNetDecoder(depths=(7, 6, 5, 4))
    head = SideFusionHead(in_channels=(4, 8))
    with pytest.raises(ValueError, match='built for 2 features'):
        head([torch.zeros(1, 4, 8, 8)])


def test_single_channel_variant_runs_on_any_size():
    cfg = Config.fromfile(MODEL_CONFIG).model
    cfg.data_preprocessor.update(in_channels=1, mean=(0.5, ), std=(0.25, ))
    cfg.backbone.in_channels = 1
    model = MODELS.build(cfg).eval()
    with torch.no_grad():
        outputs = model.forward_outputs(torch.randn(1, 1, 37, 21))
    assert [tuple(o.shape) for o in outputs] == [(1, 1, 37, 21)] * 7


@pytest.mark.parametrize('dataset,data_root', [
    ('sirst', 'datasets/SIRST'), ('nudt-sirst', 'datasets/NUDT-SIRST'),
    ('irstd1k', 'datasets/IRSTD-1k')])
def test_configs_state_the_reference_recipe(dataset, data_root):
    cfg = Config.fromfile(
        osp.join(CONFIG_DIR, 'uiunet',
                 f'uiunet_1xb3-500e_{dataset}-288x288.py'))
    loader = cfg.train_dataloader
    assert loader.dataset.data_root == data_root
    assert (loader.batch_size, loader.drop_last, loader.sampler.shuffle) == \
        (3, True, False)
    assert [t['type'] for t in loader.dataset.pipeline] == [
        'LoadIRSTDImageFromFile', 'LoadIRSTDAnnotations', 'LegacyTestResize',
        'RandomFlip', 'RandomCrop', 'PackIRSTDInputs']
    assert loader.dataset.pipeline[2]['size'] == 320
    assert loader.dataset.pipeline[3]['direction'] == 'vertical'
    assert loader.dataset.pipeline[4]['crop_size'] == (288, 288)
    assert cfg.val_dataloader.dataset.pipeline[2] == dict(
        type='LegacyTestResize', size=320)
    assert cfg.optim_wrapper.optimizer == dict(
        type='Adam', lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0)
    assert 'param_scheduler' not in cfg  # constant learning rate
    assert cfg.train_cfg.max_epochs == 500
    assert cfg.model.decode_head.output_weights == (1.0, ) * 7
