"""Segmentor, head and data preprocessor of the framework (U-Net baseline)."""
import copy

import pytest
import torch
from mmengine.config import Config
from mmengine.structures import PixelData
from mmseg.structures import SegDataSample

from serankdet.registry import MODELS
from tests.conftest import REPO_ROOT

CHANNELS = (4, 8, 16, 32)


def build_unet(**head):
    cfg = Config.fromfile(f'{REPO_ROOT}/configs/_base_/models/unet.py').model
    cfg.backbone.channels = CHANNELS
    cfg.neck.in_channels = CHANNELS
    cfg.decode_head.in_channels = CHANNELS
    cfg.decode_head.update(head)
    torch.manual_seed(0)
    return MODELS.build(cfg).eval()


def sample(height, width, max_value=255.0, target=True):
    data_sample = SegDataSample(metainfo=dict(
        img_max_value=max_value, ori_shape=(height, width),
        img_path=f'frame_{height}x{width}.png'))
    mask = torch.zeros(1, height, width, dtype=torch.long)
    if target:
        mask[0, 5:8, 5:8] = 1
    data_sample.gt_sem_seg = PixelData(data=mask)
    return data_sample


def test_preprocessor_scales_by_bit_depth_and_replicates():
    pre = MODELS.build(dict(type='IRSTDDataPreProcessor', in_channels=3,
                            mean=(0.5, 0.5, 0.5), std=(0.25, 0.25, 0.25),
                            size_divisor=8))
    frames = [torch.full((1, 6, 5), 255, dtype=torch.uint8),
              torch.full((1, 7, 4), 65535 // 4 + 1, dtype=torch.int32)]
    samples = [sample(6, 5), sample(7, 4, max_value=65535.0)]
    out = pre(dict(inputs=frames, data_samples=samples), training=False)
    batch = out['inputs']
    assert batch.shape == (2, 3, 8, 8)
    # 255/255 -> (1 - .5)/.25 = 2 ; ~0.25 -> (0.25 - .5)/.25 = -1
    assert torch.allclose(batch[0, :, :6, :5], torch.tensor(2.0))
    assert torch.allclose(batch[1, :, :7, :4], torch.tensor(-1.0), atol=1e-4)
    assert torch.all(batch[0, :, 6:, :] == 0)  # padding value
    assert out['data_samples'][1].padding_size == (0, 4, 0, 1)
    # at test time masks keep their native size for the metric
    assert out['data_samples'][1].gt_sem_seg.shape == (7, 4)


def test_preprocessor_normalizes_rgb_per_channel():
    pre = MODELS.build(dict(type='IRSTDDataPreProcessor', in_channels=3,
                            mean=(0.485, 0.456, 0.406),
                            std=(0.229, 0.224, 0.225)))
    rgb = torch.tensor([[[51]], [[102]], [[204]]], dtype=torch.uint8)
    out = pre(dict(inputs=[rgb], data_samples=[sample(1, 1)]))['inputs']
    # R: (0.2 - 0.485) / 0.229, G: (0.4 - 0.456) / 0.224,
    # B: (0.8 - 0.406) / 0.225
    expected = torch.tensor([-1.244541, -0.25, 1.751111])
    assert out.shape == (1, 3, 1, 1)
    assert torch.allclose(out.flatten(), expected, atol=1e-5)
    # a gray frame is repeated, then normalised per channel
    gray = torch.tensor([[[102]]], dtype=torch.uint8)
    out = pre(dict(inputs=[gray], data_samples=[sample(1, 1)]))['inputs']
    expected = torch.tensor([-0.371179, -0.25, -0.026667])
    assert torch.allclose(out.flatten(), expected, atol=1e-5)


def test_preprocessor_gives_luma_to_one_channel_networks():
    pre = MODELS.build(dict(type='IRSTDDataPreProcessor', in_channels=1,
                            mean=(0.5, ), std=(0.25, )))
    rgb = torch.tensor([[[255, 0]], [[0, 255]], [[0, 0]]],
                       dtype=torch.uint8)
    out = pre(dict(inputs=[rgb], data_samples=[sample(1, 2)]))['inputs']
    # luma 0.299 (pure red) and 0.587 (pure green) on the [0, 1] scale
    expected = torch.tensor([(0.299 - 0.5) / 0.25, (0.587 - 0.5) / 0.25])
    assert out.shape == (1, 1, 1, 2)
    assert torch.allclose(out.flatten(), expected, atol=1e-6)
    with pytest.raises(ValueError, match=r'gray \(1, H, W\) or RGB '
                       r'\(3, H, W\) frames, got shape \(2, 1, 2\)'):
        pre(dict(inputs=[rgb[:2]], data_samples=[sample(1, 2)]))


def test_preprocessor_pads_masks_in_training():
    pre = MODELS.build(dict(type='IRSTDDataPreProcessor', size_divisor=8))
    out = pre(dict(inputs=[torch.zeros(1, 6, 6, dtype=torch.uint8)],
                   data_samples=[sample(6, 6)]), training=True)
    mask = out['data_samples'][0].gt_sem_seg.data
    assert mask.shape == (1, 8, 8) and mask[0, 6:, :].sum() == 0
    assert mask.sum() == 1  # the 6x6 frame holds one target pixel (5, 5)


def test_preprocessor_rejects_bad_channel_config():
    with pytest.raises(ValueError, match='in_channels must be 1 or 3'):
        MODELS.build(dict(type='IRSTDDataPreProcessor', in_channels=2))
    with pytest.raises(ValueError, match='need 3 values'):
        MODELS.build(dict(type='IRSTDDataPreProcessor', in_channels=3,
                          mean=(0.5, ), std=(1.0, 1.0, 1.0)))


def test_tensor_mode_and_deep_supervision_losses():
    model = build_unet(output_weights=(1.0, 0.5, 0.0))
    inputs = torch.randn(2, 1, 32, 32)
    logits = model(inputs, mode='tensor')
    assert logits.shape == (2, 1, 32, 32)
    outputs = model.forward_outputs(inputs)
    assert torch.equal(outputs[0], logits)
    target = torch.zeros(2, 1, 32, 32)
    losses = model.decode_head.loss_by_outputs(outputs, target)
    # weight 0 drops aux2; aux1 is weighted by 0.5
    assert set(losses) == {'loss_softiou', 'loss_bce', 'aux1_loss_softiou',
                           'aux1_loss_bce'}
    soft_iou = model.decode_head.loss_decode[0]
    assert losses['aux1_loss_softiou'].item() == pytest.approx(
        0.5 * soft_iou(outputs[1], target).item())


def test_output_weights_must_match_outputs():
    model = build_unet(output_weights=(1.0, 1.0))
    with pytest.raises(ValueError, match='2 values but the head returns 3'):
        model.decode_head.loss_by_outputs(
            model.forward_outputs(torch.randn(1, 1, 16, 16)),
            torch.zeros(1, 1, 16, 16))


def test_backbone_rejects_sides_it_cannot_take():
    model = build_unet()
    with pytest.raises(ValueError, match='multiples of 8, got 20x16'):
        model(torch.randn(1, 1, 20, 16), mode='tensor')


def test_predict_unpads_and_keeps_logits():
    model = build_unet()
    frames = [torch.randint(0, 255, (1, 30, 21), dtype=torch.uint8),
              torch.randint(0, 255, (1, 16, 16), dtype=torch.uint8)]
    data = dict(inputs=frames, data_samples=[sample(30, 21), sample(16, 16)])
    with torch.no_grad():
        results = model.test_step(copy.deepcopy(data))
        padded = model.data_preprocessor(copy.deepcopy(data))['inputs']
        full = model(padded, mode='tensor')
    assert results[0].seg_logits.shape == (30, 21)
    assert torch.allclose(results[0].seg_logits.data, full[0, :, :30, :21])
    assert torch.equal(results[1].pred_sem_seg.data,
                       (full[1, :, :16, :16].sigmoid() > 0.5).long())


def test_slide_inference_covers_frame_and_averages():
    model = build_unet()
    inputs = torch.randn(1, 1, 48, 40)
    model.test_cfg = dict(mode='slide', crop_size=(32, 32), stride=(16, 16))
    with torch.no_grad():
        tiled = model.inference(inputs)
        # windows at rows 0, 16 and cols 0, 8: pixel (0, 0) only in window 1
        first = model.encode_decode(inputs[..., :32, :32])
    assert tiled.shape == (1, 1, 48, 40)
    assert torch.allclose(tiled[..., :8, :8], first[..., :8, :8], atol=1e-6)
    with pytest.raises(ValueError, match="'whole' or 'slide'"):
        model.test_cfg = dict(mode='tiles')
        model.inference(inputs)
