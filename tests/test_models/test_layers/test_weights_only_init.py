"""``WeightsOnly``: another initializer on the weights, biases untouched."""
import math

import pytest
import torch
from mmengine.model import BaseModule, initialize
from torch import nn


def _net():
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(16, 8, 3), nn.BatchNorm2d(8),
                         nn.Linear(64, 4))


def test_weights_redrawn_biases_kept():
    net = _net()
    before = {name: p.detach().clone() for name, p in net.named_parameters()}
    initialize(net, dict(type='WeightsOnly',
                         init=dict(type='Kaiming', layer='Conv2d',
                                   mode='fan_in', distribution='normal')))
    # Kaiming normal (fan_in 16 * 9, gain sqrt(2)) replaced the conv weight
    assert not torch.equal(net[0].weight, before['0.weight'])
    assert net[0].weight.std().item() == pytest.approx(
        math.sqrt(2 / (16 * 9)), rel=0.1)
    # ... and every bias is the one PyTorch drew at construction
    for name in ('0.bias', '1.bias', '2.bias'):
        assert torch.equal(dict(net.named_parameters())[name], before[name])
    assert 0 < net[0].bias.abs().max() <= 1 / math.sqrt(16 * 9)
    # layers outside the inner initializer's `layer` are untouched
    assert torch.equal(net[2].weight, before['2.weight'])


def test_plain_mmengine_initializer_zeroes_the_biases():
    # what WeightsOnly exists for: mmengine's own Kaiming sets bias=0
    net = _net()
    initialize(net, dict(type='Kaiming', layer='Conv2d'))
    assert net[0].bias.abs().max() == 0


def test_override_initializes_the_whole_named_module():
    class Net(BaseModule):

        def __init__(self):
            super().__init__(init_cfg=dict(
                type='WeightsOnly',
                init=dict(type='Constant', val=0.5, layer='Linear'),
                override=dict(name='head')))
            self.body = nn.Linear(4, 4)
            self.head = nn.Conv2d(4, 1, 1)

    torch.manual_seed(0)
    net = Net()
    bias = net.head.bias.detach().clone()
    net.init_weights()
    # override: the whole `head` gets the inner initializer, whatever its
    # type, the bias kept; `body` is a Linear of the top-level entry
    assert (net.head.weight == 0.5).all() and torch.equal(net.head.bias,
                                                           bias)
    assert (net.body.weight == 0.5).all() and net.body.bias.abs().max() > 0


def test_init_info_says_the_biases_are_kept():
    from serankdet.registry import WEIGHT_INITIALIZERS
    init = WEIGHT_INITIALIZERS.build(
        dict(type='WeightsOnly', init=dict(type='Xavier', layer='Conv2d')))
    assert init._get_init_info() == (
        'WeightsOnlyInit: XavierInit: gain=1, distribution=normal, bias=0, '
        'biases kept')


def test_unknown_inner_initializer_is_named():
    with pytest.raises(KeyError, match='NoSuchInit'):
        initialize(_net(), dict(type='WeightsOnly',
                                init=dict(type='NoSuchInit')))
