"""--amp: bfloat16 autocast wrapper on CPU, float32 outputs and losses."""
import warnings

import pytest
import torch
import torch.nn as nn
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper

from serankdet.utils import use_mixed_precision
from tests.test_models.test_segmentors.test_irstd_segmentor import build_unet


def test_autocast_wrapper_runs_forward_in_bfloat16_keeps_float32_params():
    torch.manual_seed(0)
    layer = nn.Linear(4, 3)
    wrapper = build_optim_wrapper(layer, dict(
        type='AutocastOptimWrapper', optimizer=dict(type='SGD', lr=0.5)))
    x = torch.ones(2, 4)
    weight_before = layer.weight.detach().clone()
    with wrapper.optim_context(layer):
        out = layer(x)
    assert out.dtype == torch.bfloat16
    wrapper.update_params(out.float().sum())
    assert layer.weight.dtype == torch.float32
    # d(sum)/dW = 2 (two rows of ones) for every weight: W - 0.5 * 2
    torch.testing.assert_close(layer.weight.detach(), weight_before - 1.0)
    # outside the context the model is float32 again
    assert layer(x).dtype == torch.float32


def test_autocast_wrapper_rejects_unknown_dtype():
    with pytest.raises(ValueError, match="dtype must be 'bfloat16' or "
                       "'float16', got 'int8'"):
        build_optim_wrapper(nn.Linear(2, 2), dict(
            type='AutocastOptimWrapper', dtype='int8',
            optimizer=dict(type='SGD', lr=0.1)))


@pytest.mark.skipif(torch.cuda.is_available(), reason='CPU behaviour')
def test_autocast_wrapper_refuses_float16_on_cpu():
    with pytest.raises(ValueError, match="dtype='float16' needs a CUDA GPU"):
        build_optim_wrapper(nn.Linear(2, 2), dict(
            type='AutocastOptimWrapper', dtype='float16',
            optimizer=dict(type='SGD', lr=0.1)))


def test_segmentor_outputs_and_losses_are_float32_under_autocast():
    model = build_unet().train()
    inputs = torch.randn(2, 1, 32, 32)
    target = torch.zeros(2, 1, 32, 32)
    target[..., 10:13, 10:13] = 1
    with torch.autocast('cpu', dtype=torch.bfloat16):
        outputs = model.forward_outputs(inputs)
        losses = model.decode_head.loss_by_outputs(outputs, target)
    assert all(o.dtype == torch.float32 for o in outputs)
    assert all(v.dtype == torch.float32 for v in losses.values())
    # bfloat16 (8-bit mantissa) keeps the loss close to float32's
    with torch.no_grad():
        reference = model.decode_head.loss_by_outputs(
            model.forward_outputs(inputs), target)
    for name, value in losses.items():
        assert value.item() == pytest.approx(reference[name].item(), rel=2e-2)


@pytest.mark.skipif(torch.cuda.is_available(), reason='CPU behaviour')
def test_use_mixed_precision_on_cpu_picks_bfloat16_autocast():
    cfg = Config(dict(optim_wrapper=dict(type='OptimWrapper',
                                         optimizer=dict(type='SGD', lr=0.1)),
                      val_cfg=dict(type='ValLoop'),
                      test_cfg=dict(type='TestLoop')))
    use_mixed_precision(cfg, training=True)
    assert cfg.optim_wrapper.type == 'AutocastOptimWrapper'
    assert cfg.optim_wrapper.dtype == 'bfloat16'
    # mmengine's loops autocast to bfloat16 on CPU with fp16=True
    assert cfg.val_cfg.fp16 and cfg.test_cfg.fp16
    test_only = Config(dict(test_cfg=dict(type='TestLoop')))
    use_mixed_precision(test_only, training=False)
    assert test_only.test_cfg.fp16 and 'optim_wrapper' not in test_only


def test_warns_when_the_cpu_emulates_bfloat16(monkeypatch):
    from serankdet.utils import mixed_precision
    monkeypatch.setattr(mixed_precision, '_cpu_has_bfloat16', lambda: False)
    with pytest.warns(UserWarning, match='no AVX512-BF16/AMX bfloat16 '
                      'support: --amp will be slower'):
        mixed_precision.warn_if_bfloat16_emulated('cpu')
    monkeypatch.setattr(mixed_precision, '_cpu_has_bfloat16', lambda: True)
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        mixed_precision.warn_if_bfloat16_emulated('cpu')
        mixed_precision.warn_if_bfloat16_emulated('cuda')
