"""HardNegativeMiningHook on four tiny frames and a model that fires on
bright pixels, checked against the centroids by hand."""
import os.path as osp
from types import SimpleNamespace

import numpy as np
import pytest
import torch.nn as nn
from mmengine.structures import PixelData
from mmseg.structures import SegDataSample

from serankdet.datasets import IRSTDDataset
from serankdet.datasets.transforms import (read_hard_negatives,
                                           write_hard_negatives)
from serankdet.engine.hooks import (HardNegativeMiningHook,
                                    false_alarm_centroids)
from tests.negative_frames import target_mask, write_frames


class BrightPixelModel(nn.Module):
    """Predicts target where the gray level exceeds 150; records whether
    it predicted in eval mode."""

    def __init__(self):
        super().__init__()
        self.modes = []

    def test_step(self, data):
        self.modes.append(self.training)
        return [
            SegDataSample(pred_sem_seg=PixelData(data=(image > 150).long()))
            for image in data['inputs']
        ]


def _frames():
    """f00: a target (bright, not mined); f01: target-free with a bright
    3x3 block at rows 2-4, columns 6-8 and a bright pixel at (10, 1);
    f02: target-free, dark; f03: target-free, a bright pixel at (5, 5)."""
    images = [np.full((12, 12), 100, np.uint8) for _ in range(4)]
    images[0][2, 3] = 255
    images[1][2:5, 6:9] = 255
    images[1][10, 1] = 255
    images[3][5, 5] = 255
    masks = [target_mask((12, 12), 2, 3)] + [
        np.zeros((12, 12), np.uint8) for _ in range(3)]
    return images, masks


@pytest.fixture
def runner(tmp_path):
    images, masks = _frames()
    write_frames(str(tmp_path / 'data'), masks, images)
    points_file = str(tmp_path / 'work' / 'hard_negatives.json')
    dataset = IRSTDDataset(
        data_root=str(tmp_path / 'data'),
        pipeline=[dict(type='HardNegativeRandomCrop', crop_size=(4, 4),
                       points_file=points_file)])
    return SimpleNamespace(
        model=BrightPixelModel(), iter=0, epoch=0,
        train_dataloader=SimpleNamespace(dataset=dataset),
        points_file=points_file,
        path=lambda i: osp.join(str(tmp_path / 'data'), 'images',
                                f'f{i:02d}.png'))


def test_centroids_of_components():
    pred = np.zeros((12, 12), np.uint8)
    pred[2:5, 6:9] = 1
    pred[10, 1] = 1
    # the block's centre (3, 7), the pixel (10, 1); 8-connected
    assert false_alarm_centroids(pred) == [[3, 7], [10, 1]]
    pred[5, 9] = 1  # touches the block's corner (4, 8)
    assert len(false_alarm_centroids(pred)) == 2
    assert false_alarm_centroids(np.zeros((3, 3))) == []


def test_all_target_free_frames_every_interval(runner):
    write_hard_negatives(runner.points_file, {'stale.png': [(0, 0)]})
    hook = HardNegativeMiningHook(interval=5)
    hook.before_train(runner)
    # an earlier run's points are dropped; f00 (a target) is not mined
    assert read_hard_negatives(runner.points_file) == {}
    assert [f['img_id'] for f in hook.frames] == ['f01', 'f02', 'f03']
    runner.model.train()
    runner.iter = 3  # the 4th iteration: no round
    hook.after_train_iter(runner, 3)
    assert runner.model.modes == []
    runner.iter = 4  # the 5th
    hook.after_train_iter(runner, 4)
    # f02 fired nowhere: no entry
    assert read_hard_negatives(runner.points_file) == {
        runner.path(1): [(3, 7), (10, 1)], runner.path(3): [(5, 5)]}
    # three frames predicted in eval mode, training mode restored
    assert runner.model.modes == [False] * 3 and runner.model.training
    # the crop of the training pipeline reads them
    crop = runner.train_dataloader.dataset.pipeline.transforms[0]
    assert crop.points()[runner.path(3)] == [(5, 5)]


def test_max_frames_go_round_in_turn(runner):
    hook = HardNegativeMiningHook(interval=1, max_frames=2)
    hook.before_train(runner)
    # round 0: f01, f02; round 1: f03, f01; round 2: f02, f03
    assert [f['img_id'] for f in hook.round_frames()] == ['f01', 'f02']
    hook.after_train_iter(runner, 0)
    assert set(read_hard_negatives(runner.points_file)) == {runner.path(1)}
    assert [f['img_id'] for f in hook.round_frames()] == ['f03', 'f01']
    hook.after_train_iter(runner, 0)
    assert set(read_hard_negatives(runner.points_file)) == {
        runner.path(1), runner.path(3)}
    assert [f['img_id'] for f in hook.round_frames()] == ['f02', 'f03']


def test_resume_restores_the_points_and_rounds_of_the_checkpoint(runner):
    """A resumed training writes the points the checkpoint saved (not
    none) and goes on with the next round; a new training (iteration 0,
    e.g. ``load_from``) starts from none."""
    hook = HardNegativeMiningHook(interval=1, max_frames=2)
    hook.before_train(runner)
    hook.after_train_iter(runner, 0)  # round 0: f01, f02
    checkpoint = {}
    hook.before_save_checkpoint(runner, checkpoint)
    assert checkpoint['hard_negative_mining'] == dict(
        rounds=1, points={runner.path(1): [[3, 7], [10, 1]]})
    # the run goes on (round 1), is killed, and resumes at iteration 1
    hook.after_train_iter(runner, 1)
    resumed = HardNegativeMiningHook(interval=1, max_frames=2)
    resumed.after_load_checkpoint(runner, checkpoint)
    runner.iter = 1
    resumed.before_train(runner)
    assert read_hard_negatives(runner.points_file) == {
        runner.path(1): [(3, 7), (10, 1)]}
    assert [f['img_id'] for f in resumed.round_frames()] == ['f03', 'f01']
    resumed.after_train_iter(runner, 1)
    assert read_hard_negatives(runner.points_file) == {
        runner.path(1): [(3, 7), (10, 1)], runner.path(3): [(5, 5)]}
    # a checkpoint loaded to start a new training: points from none
    fresh = HardNegativeMiningHook(interval=1)
    fresh.after_load_checkpoint(runner, checkpoint)
    runner.iter = 0
    fresh.before_train(runner)
    assert read_hard_negatives(runner.points_file) == {}


def test_by_epoch_mines_after_epochs_only(runner):
    hook = HardNegativeMiningHook(interval=2, by_epoch=True)
    hook.before_train(runner)
    runner.epoch = 0
    hook.after_train_iter(runner, 0)
    hook.after_train_epoch(runner)  # epoch 1 ends: no round
    assert runner.model.modes == []
    runner.epoch = 1
    hook.after_train_epoch(runner)  # epoch 2 ends
    assert len(runner.model.modes) == 3


def test_needs_the_crop_in_the_pipeline(runner):
    runner.train_dataloader.dataset.pipeline.transforms.clear()
    with pytest.raises(ValueError, match='needs one HardNegativeRandomCrop'):
        HardNegativeMiningHook().before_train(runner)
    with pytest.raises(ValueError, match='max_frames must be >= 1'):
        HardNegativeMiningHook(max_frames=0)
