"""SetEpochHook: tells every submodule with set_epoch the epoch that starts."""
import types

import pytest
import torch.nn as nn
from mmengine.runner import EpochBasedTrainLoop, IterBasedTrainLoop

from serankdet.engine.hooks import SetEpochHook


class EpochAware(nn.Module):

    def __init__(self):
        super().__init__()
        self.epochs = []

    def set_epoch(self, epoch):
        self.epochs.append(epoch)


def test_every_epoch_aware_submodule_gets_the_epoch():
    inner = EpochAware()
    model = nn.Sequential(nn.Conv2d(1, 1, 1), nn.Sequential(inner),
                          EpochAware())
    hook = SetEpochHook()
    hook.before_train(types.SimpleNamespace(
        train_loop=EpochBasedTrainLoop.__new__(EpochBasedTrainLoop)))
    for epoch in (3, 4):
        hook.before_train_epoch(types.SimpleNamespace(model=model,
                                                      epoch=epoch))
    assert inner.epochs == model[2].epochs == [3, 4]


def test_iteration_based_loop_is_refused():
    loop = IterBasedTrainLoop.__new__(IterBasedTrainLoop)
    with pytest.raises(ValueError,
                       match='SetEpochHook needs an epoch-based train loop '
                       r"\(train_cfg=dict\(type='EpochBasedTrainLoop', "
                       r"\.\.\.\)\), got IterBasedTrainLoop"):
        SetEpochHook().before_train(types.SimpleNamespace(train_loop=loop))
