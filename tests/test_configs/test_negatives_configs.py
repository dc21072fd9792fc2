"""The SIRST-V2 configs that train with target-free frames (issue 28)."""
import os.path as osp

import numpy as np
import pytest
from mmengine.config import Config
from mmengine.runner import Runner

from serankdet.registry import MODELS
from tests.negative_frames import target_mask, write_frames
from tests.test_configs.test_config_snapshot import CONFIG_DIR

NEGATIVES = 'serankdet/serankdet-w8_1xb4-10k_sirst-v2-negatives-256x256.py'
HARD = 'serankdet/serankdet-w8_1xb4-10k_sirst-v2-hard-negatives-256x256.py'
ACM = 'acm/acm_1xb16-400e_sirst-v2-negatives-256x256.py'
CONFIGS = [NEGATIVES, HARD, ACM]


def _load(name):
    return Config.fromfile(osp.join(CONFIG_DIR, name))


@pytest.mark.parametrize('name', CONFIGS)
def test_config_trains_on_native_crops_with_target_free_frames(name):
    cfg = _load(name)
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        assert cfg[loader].dataset.data_root == 'datasets/SIRST-V2'
    assert cfg.train_dataloader.sampler == dict(
        type='NegativeRatioSampler', negative_ratio=0.5)
    steps = [step['type'] for step in cfg.train_dataloader.dataset.pipeline]
    crop = ('HardNegativeRandomCrop' if name == HARD
            else 'TargetBiasedRandomCrop')
    # no resize: pad up to the crop, crop, flips, transpose
    assert steps == [
        'LoadIRSTDImageFromFile', 'LoadIRSTDAnnotations', 'Pad', crop,
        'RandomFlip', 'RandomFlip', 'RandomTranspose', 'PackIRSTDInputs']
    assert cfg.model.decode_head.loss_decode == dict(
        type='SoftIoULoss', reduction='batch', empty_weight=1.0)
    loss = MODELS.build(cfg.model).decode_head.loss_decode[0]
    assert loss.empty_weight == 1.0


def test_acm_standardises_with_sirst_v2_statistics():
    cfg = _load(ACM)
    assert cfg.train_dataloader.batch_size == 16
    assert cfg.model.data_preprocessor.mean == (101.85106168421281 / 255, )
    # BasicIRSTD pads with the mean gray level
    assert cfg.train_dataloader.dataset.pipeline[2]['pad_val'] == dict(
        img=102, seg=0)


def test_hard_negative_config_mines_at_every_validation():
    cfg = _load(HARD)
    crop = cfg.train_dataloader.dataset.pipeline[3]
    assert crop == dict(
        type='HardNegativeRandomCrop', crop_size=(256, 256), target_prob=0.5,
        rule='around_pixel', hard_negative_prob=0.5,
        points_file='work_dirs/serankdet-w8_1xb4-10k_sirst-v2-hard-'
        'negatives-256x256/hard_negatives.json')
    hooks = [hook['type'] for hook in cfg.custom_hooks]
    assert hooks == ['NonFiniteLossHook', 'RNGStateHook', 'EarlyStoppingHook',
                     'HardNegativeMiningHook']
    assert cfg.custom_hooks[-1] == dict(
        type='HardNegativeMiningHook', interval=425, max_frames=64)


@pytest.mark.parametrize('name', [NEGATIVES, ACM])
def test_an_epoch_holds_the_configured_ratio(name, tmp_path):
    # 6 frames with a target, 8 without: 6 + round(0.5 * 6) = 9 an epoch
    masks = [target_mask((64, 64), 10 + i, 20) if i % 2 == 0 else
             np.zeros((64, 64), np.uint8) for i in range(12)]
    masks += [np.zeros((64, 64), np.uint8)] * 2
    write_frames(str(tmp_path / 'trainval'), masks)
    loader_cfg = _load(name).train_dataloader
    loader_cfg.update(num_workers=0, persistent_workers=False, batch_size=9)
    loader_cfg.dataset.data_root = str(tmp_path)
    loader = Runner.build_dataloader(loader_cfg, seed=0)
    with_target = {0, 2, 4, 6, 8, 10}
    drawn = []
    for epoch in range(3):
        loader.sampler.set_epoch(epoch)
        indices = list(loader.sampler)
        assert len(indices) == 9
        assert sorted(set(indices) & with_target) == sorted(with_target)
        drawn += sorted(set(indices) - with_target)
    # 3 target-free frames an epoch, all 8 seen within 3 epochs
    assert len(drawn) == 9 and set(drawn) == set(range(14)) - with_target
    # the pipeline crops the padded 64x64 frames whole: the target stays
    batch = next(iter(loader))
    has_target = [int(sample.gt_sem_seg.data.sum() > 0)
                  for sample in batch['data_samples']]
    assert [tuple(img.shape) for img in batch['inputs']] == [(1, 256, 256)
                                                             ] * 9
    assert sum(has_target) == 6
