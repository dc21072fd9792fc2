"""Gradient accumulation (``optim_wrapper.accumulative_counts``): two
steps of half the batch make the update of one step of the full batch.

Exactly so when every sample's loss is averaged alone and BatchNorm
normalises with fixed statistics: here the losses are per sample
(``reduction='sample'``; the references' ``'batch'`` soft-IoU pools the
batch before dividing) and the BatchNorm layers are in eval mode. In
training mode each half is normalised with its own batch statistics, so
the update differs a little (checked below): what batch normalisation
sees shrinks with the batch on one GPU whatever the accumulation.
"""
import copy

import pytest
import torch
from mmengine.optim import OptimWrapper

from serankdet.registry import MODELS
from tests.test_models.test_segmentors.test_irstd_segmentor import (
    build_unet, sample)

BATCH = 8


def batch(indices):
    generator = torch.Generator().manual_seed(1)
    frames = torch.randint(0, 256, (BATCH, 1, 32, 32), generator=generator,
                           dtype=torch.uint8)
    return dict(inputs=[frames[i] for i in indices],
                data_samples=[sample(32, 32) for _ in indices])


def train(model, halves: bool, bn_eval: bool):
    """One full-batch step, or two half-batch steps accumulated; the
    weights after them."""
    model = copy.deepcopy(model).train()
    if bn_eval:
        for module in model.modules():
            if isinstance(module, torch.nn.BatchNorm2d):
                module.eval()
    wrapper = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.1),
                           accumulative_counts=2 if halves else 1)
    chunks = ([range(0, BATCH // 2), range(BATCH // 2, BATCH)]
              if halves else [range(BATCH)])
    wrapper.initialize_count_status(model, 0, len(chunks))
    for chunk in chunks:
        model.train_step(batch(chunk), wrapper)
    return {name: value.detach().clone()
            for name, value in model.named_parameters()}


@pytest.fixture(scope='module')
def model():
    model = build_unet(loss_decode=[
        dict(type='SoftIoULoss', reduction='sample'),
        dict(type='SigmoidBCELoss')])
    for module in model.modules():
        if isinstance(module, torch.nn.BatchNorm2d):
            module.running_mean.uniform_(-0.1, 0.1)
            module.running_var.uniform_(0.5, 2.0)
    return model


def max_difference(a, b):
    return max((a[name] - b[name]).abs().max().item() for name in a)


def test_two_half_batches_accumulated_make_the_full_batch_step(model):
    start = {name: value.detach().clone()
             for name, value in model.named_parameters()}
    full = train(model, halves=False, bn_eval=True)
    accumulated = train(model, halves=True, bn_eval=True)
    assert max_difference(full, start) > 1e-3  # the step moved the weights
    for name, value in full.items():
        torch.testing.assert_close(accumulated[name], value, rtol=0,
                                   atol=1e-6, msg=name)


def test_batch_statistics_of_half_batches_change_the_step(model):
    full = train(model, halves=False, bn_eval=False)
    accumulated = train(model, halves=True, bn_eval=False)
    assert max_difference(full, accumulated) > 1e-5


def test_config_key_reaches_the_optimizer_wrapper():
    """``optim_wrapper = dict(accumulative_counts=N)`` in a config (or
    ``--cfg-options optim_wrapper.accumulative_counts=N``) is what
    mmengine's wrapper takes."""
    from mmengine.optim import build_optim_wrapper
    wrapper = build_optim_wrapper(
        MODELS.build(dict(type='UNetEncoder', in_channels=1,
                          channels=(4, 8))),
        dict(type='OptimWrapper', accumulative_counts=4,
             optimizer=dict(type='SGD', lr=0.1)))
    assert wrapper._accumulative_counts == 4
