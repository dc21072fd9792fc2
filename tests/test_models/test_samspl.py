"""SAM-SPL: fidelity to the reference (golden vectors), SAM2.1 trunk loading,
the converter, the SAM-SPL transforms and the Adan optimizer."""
import os.path as osp

import cv2
import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper

from serankdet.apis.conversion import convert_checkpoint, convert_state_dict
from serankdet.models.converters import ConversionError
from serankdet.registry import MODELS, TRANSFORMS

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
MODEL_CFG = osp.join(REPO, 'configs/_base_/models/samspl.py')
TINY_TRUNK = dict(embed_dim=96, num_heads=1, stages=(1, 2, 7),
                  global_att_blocks=(5, 7, 9), window_spec=(8, 4, 14))


@pytest.fixture(scope='module')
def golden(golden_dir):
    return torch.load(osp.join(golden_dir, 'samspl.pt'), weights_only=True,
                      map_location='cpu')


@pytest.fixture(scope='module')
def model64(golden):
    """The t model with the golden weights, in float64."""
    converted, notes = convert_state_dict('samspl', golden['state_dict'])
    assert notes == ['dropped 2 keys: the reference builds a patch '
                     'embedding it never uses']
    model = MODELS.build(Config.fromfile(MODEL_CFG).model)
    model.load_state_dict(converted, strict=True)
    return model.double()


def test_golden_eval_outputs_and_intermediates(golden, model64):
    got = {}
    model64.backbone.register_forward_hook(lambda m, i, o: got.update({
        'sam_backbone_embeds.0': o[3], 'sam_backbone_embeds.1': o[4]}))
    neck = model64.neck
    neck.prompt_generator.register_forward_hook(
        lambda m, i, o: got.update(image_pe=o))
    neck.transformer.register_forward_hook(lambda m, i, o: got.update({
        'decoder_transformer.hs': o[0], 'decoder_transformer.src': o[1]}))
    neck.down_proj.register_forward_hook(
        lambda m, i, o: got.update(proj_block=o))
    model64.eval()
    with torch.no_grad():
        outputs = model64.forward_outputs(golden['input'].double())
    for hook_owner in (model64.backbone, neck.prompt_generator,
                       neck.transformer, neck.down_proj):
        hook_owner._forward_hooks.clear()
    assert len(outputs) == 3
    for ours, ref in zip(outputs, golden['output_f64']):
        torch.testing.assert_close(ours, ref, rtol=0, atol=1e-9)
    # mode='tensor' is the main (finest) output; eval mode is per-sample,
    # so one image is enough
    with torch.no_grad():
        main = model64(golden['input'][:1].double(), mode='tensor')
    torch.testing.assert_close(main, golden['output_f64'][0][:1], rtol=0,
                               atol=1e-9)
    # intermediates are stored in float32 (relative error ~5e-6 vs f64)
    for key, ref in golden['intermediates'].items():
        tol = 2e-5 * ref.abs().max().item()
        torch.testing.assert_close(got[key], ref.double(), rtol=0, atol=tol,
                                   msg=key)


def test_golden_train_outputs_and_frozen_trunk(golden, model64):
    model64.train()
    trunk = model64.backbone.trunk
    assert not trunk.training and not any(m.training for m in trunk.modules())
    assert not any(p.requires_grad for p in trunk.parameters())
    trainable = sum(p.numel() for p in model64.parameters() if p.requires_grad)
    # reference: 12,246,751 incl. the unused 14,208-parameter patchEmded
    assert trainable == 12_246_751 - 14_208
    with torch.no_grad():
        outputs = model64.forward_outputs(golden['train_input'].double())
    for ours, ref in zip(outputs, golden['train_output_f64']):
        torch.testing.assert_close(ours, ref, rtol=0, atol=1e-9)


def test_converter_accepts_training_wrapper_and_bare(golden, tmp_path):
    reference = golden['state_dict']
    expected, _ = convert_state_dict('samspl', reference)
    for name, ckpt in (('wrapped', dict(epoch=3, model_state_dict=reference,
                                        best_metric=None)),
                       ('bare', reference)):
        src, dst = tmp_path / f'{name}.pt', tmp_path / f'{name}_ours.pt'
        torch.save(ckpt, src)
        convert_checkpoint('samspl', str(src), str(dst))
        written = torch.load(dst, weights_only=True)['state_dict']
        assert written.keys() == expected.keys()
        assert all(torch.equal(written[k], v) for k, v in expected.items())
    broken = dict(reference)
    broken.pop('mask_token.weight')
    with pytest.raises(ConversionError, match='neck.mask_token.weight'):
        convert_state_dict('samspl', broken)


def _sam2_checkpoint(path, fill=torch.randn, **trunk_cfg):
    """A SAM2.1-format file: trunk keys and shapes of ``trunk_cfg`` with
    values from ``fill``, plus keys of other SAM2 parts (ignored by the
    loader)."""
    torch.manual_seed(0)
    with torch.device('meta'):
        trunk = MODELS.build(dict(type='HieraTrunk', **trunk_cfg))
    state = {f'image_encoder.trunk.{k}': fill(v.shape)
             for k, v in trunk.state_dict().items()}
    state['image_encoder.neck.convs.0.conv.weight'] = torch.randn(256, 768)
    state['sam_mask_decoder.transformer.norm_final_attn.weight'] = \
        torch.randn(256)
    torch.save(dict(model=state), path)
    return state


def test_sam2_checkpoint_loads_into_truncated_trunk(tmp_path):
    path = str(tmp_path / 'sam2.1_hiera_tiny.pt')
    # the full SAM2.1-T trunk: 4 stages, 12 blocks
    state = _sam2_checkpoint(path, embed_dim=96, num_heads=1,
                             stages=(1, 2, 7, 2), global_att_blocks=(5, 7, 9),
                             window_spec=(8, 4, 14, 7))
    encoder = MODELS.build(dict(type='SAMSPLEncoder',
                                trunk=dict(TINY_TRUNK, pretrained=path)))
    encoder.init_weights()
    loaded = encoder.trunk.state_dict()
    assert len(loaded) == 128
    for key, value in loaded.items():
        assert torch.equal(value, state[f'image_encoder.trunk.{key}']), key
    encoder.train()
    assert not encoder.trunk.training and encoder.stem.training


@pytest.mark.parametrize('other, message', [
    # SAM2.1-S: same shapes as T for blocks 0-9, but stage 3 has 11 blocks
    (dict(embed_dim=96, stages=(1, 2, 11, 2), global_att_blocks=(7, 10, 13),
          window_spec=(8, 4, 14, 7)), r'stages \[1, 2, 11, 2\]'),
    # same stages, other width
    (dict(embed_dim=64, stages=(1, 2, 7, 2), global_att_blocks=(5, 7, 9),
          window_spec=(8, 4, 14, 7)),
     r'another variant(.|\n)*pos_embed: checkpoint \(1, 64, 7, 7\) vs '
     r'trunk \(1, 96, 7, 7\)'),
])
def test_sam2_checkpoint_of_another_variant_fails(tmp_path, other, message):
    path = str(tmp_path / 'other.pt')
    _sam2_checkpoint(path, fill=torch.zeros, num_heads=1, **other)
    trunk = MODELS.build(dict(type='HieraTrunk', pretrained=path,
                              **TINY_TRUNK))
    with pytest.raises(ValueError, match=message):
        trunk.init_weights()


def test_sam2_checkpoint_missing_or_not_sam2(tmp_path):
    missing = str(tmp_path / 'nowhere' / 'sam2.1_hiera_tiny.pt')
    trunk = MODELS.build(dict(type='HieraTrunk', pretrained=missing,
                              **TINY_TRUNK))
    with pytest.raises(FileNotFoundError, match='nowhere/sam2.1_hiera_tiny'):
        trunk.init_weights()
    other = str(tmp_path / 'other.pt')
    torch.save(dict(model={'backbone.conv.weight': torch.zeros(1)}), other)
    with pytest.raises(ValueError, match='no image_encoder.trunk'):
        trunk.load_sam2_checkpoint(other)


def test_trunk_rejects_sizes_off_the_window_grid():
    trunk = MODELS.build(dict(type='HieraTrunk', embed_dim=8, stages=(1, 1),
                              global_att_blocks=(), window_spec=(8, 4)))
    assert [f.shape[1:] for f in trunk(torch.zeros(1, 3, 64, 64))] == [
        (8, 16, 16), (16, 8, 8)]
    with pytest.raises(ValueError, match='multiples of 32'):
        trunk(torch.zeros(1, 3, 48, 48))


def _write_pair(folder, stem, img, mask):
    for sub, array in (('images', img), ('masks', mask)):
        (folder / sub).mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(folder / sub / f'{stem}.png'), array)


def test_target_copy_paste_pastes_the_targets_of_its_dataset(tmp_path):
    from serankdet.registry import DATASETS
    img = np.zeros((16, 16), np.uint8)
    mask = np.zeros((16, 16), np.uint8)
    img[2:4, 3:6] = 200
    mask[2:4, 3:6] = 255
    _write_pair(tmp_path / 'trainval', 'a', img, mask)
    test_img = np.full((16, 16), 77, np.uint8)  # must never be pasted
    _write_pair(tmp_path / 'test', 'b', test_img, mask)
    paste_cfg = dict(type='TargetCopyPaste', prob=1.0, max_pastes=1)
    dataset = DATASETS.build(dict(
        type='IRSTDDataset', data_root=str(tmp_path),
        data_prefix=dict(img_path='trainval/images',
                         seg_map_path='trainval/masks'),
        # one bank for the dataset, also for a transform inside a wrapper
        pipeline=[paste_cfg, dict(type='RandomApply', transforms=[paste_cfg],
                                  prob=1.0)]))
    paste = dataset.pipeline.transforms[0]
    wrapped = dataset.pipeline.transforms[1].transforms.transforms[0]
    assert wrapped.bank is paste.bank and len(paste.bank) == 1
    crop_img, crop_mask = paste.bank[0]
    np.testing.assert_array_equal(crop_img, np.full((2, 3), 200))
    np.testing.assert_array_equal(crop_mask, np.ones((2, 3)))
    np.random.seed(0)
    results = paste(dict(img=np.zeros((8, 8), np.uint8),
                         gt_seg_map=np.zeros((8, 8), np.uint8)))
    # one 2x3 crop (clipped at the border) written into image and mask
    assert 1 <= results['gt_seg_map'].sum() <= 6
    assert set(np.unique(results['img'])) == {0, 200}
    np.testing.assert_array_equal(results['img'] == 200,
                                  results['gt_seg_map'] == 1)
    never = TRANSFORMS.build(dict(type='TargetCopyPaste', prob=0.0))
    never.bank = paste.bank
    untouched = never(dict(img=np.zeros((8, 8), np.uint8),
                           gt_seg_map=np.zeros((8, 8), np.uint8)))
    assert untouched['img'].sum() == 0
    # alone, without a dataset, it has nothing to paste
    with pytest.raises(RuntimeError, match='no target bank'):
        TRANSFORMS.build(paste_cfg)(dict(img=img, gt_seg_map=mask))
    # a dataset without targets cannot feed it
    _write_pair(tmp_path / 'empty', 'c', img, np.zeros_like(mask))
    with pytest.raises(ValueError, match='none of the 1 samples'):
        DATASETS.build(dict(
            type='IRSTDDataset', data_root=str(tmp_path),
            data_prefix=dict(img_path='empty/images',
                             seg_map_path='empty/masks'),
            pipeline=[paste_cfg]))


def test_init_follows_the_reference_weights_init_kaiming():
    torch.manual_seed(0)
    model = MODELS.build(Config.fromfile(MODEL_CFG).model)
    model.init_weights()
    # the three output convs (the reference's reduction_convs, 12 / 24 / 48
    # -> 1): Kaiming-normal weights, default biases U(+-1/sqrt(fan_in))
    head = model.decode_head
    for conv, fan_in in zip([head.main_conv, *head.side_convs],
                            (12, 24, 48)):
        assert 0 < conv.bias.abs().item() <= fan_in**-0.5
    weights = torch.cat([head.main_conv.weight.flatten()] +
                        [conv.weight.flatten() for conv in head.side_convs])
    # a pooled estimate over the 84 weights, each scaled by its own std
    scaled = torch.cat([
        conv.weight.flatten() / (2 / fan_in)**0.5
        for conv, fan_in in zip([head.main_conv, *head.side_convs],
                                (12, 24, 48))])
    assert weights.numel() == 84
    assert scaled.std().item() == pytest.approx(1.0, rel=0.25)
    # the neck's BatchNorms: weight N(1, 0.02), bias 0
    bn = model.neck.down_proj[1]
    assert bn.weight.std().item() == pytest.approx(0.02, rel=0.5)
    assert bn.bias.abs().max() == 0


def test_random_transpose():
    img = np.arange(6, dtype=np.uint8).reshape(2, 3)
    results = TRANSFORMS.build(dict(type='RandomTranspose', prob=1.0))(
        dict(img=img, gt_seg_map=img.copy(), seg_fields=['gt_seg_map']))
    np.testing.assert_array_equal(results['img'], img.T)
    np.testing.assert_array_equal(results['gt_seg_map'], img.T)
    assert results['img_shape'] == (3, 2)


def test_adan_first_step_matches_hand_computation():
    param = torch.nn.Parameter(torch.tensor([1.0]))
    module = torch.nn.Module()
    module.p = param
    wrapper = build_optim_wrapper(module, dict(
        type='OptimWrapper',
        optimizer=dict(type='Adan', lr=0.1, betas=(0.98, 0.92, 0.99),
                       weight_decay=0.01)))
    (2 * param).sum().backward()
    wrapper.step()
    # step 1: gradient difference 0, bias-corrected m = g, sqrt(v) = |g|:
    # p <- (p - lr * g / (|g| + eps)) / (1 + lr * wd)
    expected = (1.0 - 0.1 * 2 / (2 + 1e-8)) / (1 + 0.1 * 0.01)
    assert param.item() == pytest.approx(expected, abs=1e-7)
