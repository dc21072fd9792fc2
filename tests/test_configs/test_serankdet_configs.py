"""SeRankDet paper configs: recipe values and the per-epoch LR sequence."""
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import PARAM_SCHEDULERS

from serankdet.registry import MODELS

CONFIG_DIR = osp.join(osp.dirname(osp.dirname(osp.dirname(
    osp.abspath(__file__)))), 'configs', 'serankdet')
# config -> (dataset base size, train batch, epochs, find_unused_parameters)
PAPER = {
    'serankdet_1xb4-500e_irstd1k-512x512.py': (512, 4, 500, True),
    'serankdet_1xb4-1500e_sirst-512x512.py': (512, 4, 1500, True),
    'serankdet_1xb8-1500e_nudt-sirst-256x256.py': (256, 8, 1500, False),
    'serankdet_1xb8-300e_sirst-aug-256x256.py': (256, 8, 300, False),
}


def epoch_lrs(cfg, epochs):
    """LR of each epoch when the schedulers step once per epoch."""
    param = torch.nn.Parameter(torch.zeros(1))
    optimizer = torch.optim.AdamW([param], lr=cfg.optim_wrapper.optimizer.lr)
    schedulers = [PARAM_SCHEDULERS.build(dict(s, optimizer=optimizer))
                  for s in cfg.param_scheduler]
    lrs = []
    for _ in range(epochs):
        lrs.append(optimizer.param_groups[0]['lr'])
        optimizer.step()
        for scheduler in schedulers:
            scheduler.step()
    return lrs


@pytest.mark.parametrize('name', sorted(PAPER))
def test_paper_config(name):
    base_size, batch, epochs, find_unused = PAPER[name]
    cfg = Config.fromfile(osp.join(CONFIG_DIR, name))
    assert cfg.train_dataloader.batch_size == batch
    # the reference's build_dataset drops the last partial batch
    assert cfg.train_dataloader.drop_last is True
    assert cfg.train_cfg.max_epochs == epochs
    assert cfg.train_cfg.val_interval == 1
    assert cfg.val_dataloader.dataset.data_prefix.img_path == 'test/images'
    assert cfg.find_unused_parameters is find_unused
    assert cfg.default_hooks.checkpoint.save_best == 'irstd/IoU'
    assert cfg.optim_wrapper.optimizer == dict(
        type='AdamW', lr=1e-4, betas=(0.9, 0.999), weight_decay=0.01,
        fused=True)
    rescale, = [t for t in cfg.train_pipeline
                if t.type == 'RandomRescaleLongSide']
    assert rescale.base_size == base_size
    assert rescale.ratio_range == (0.5, 2.0)
    assert cfg.model.backbone.base_channels == 64
    assert cfg.model.backbone.per_sample_norm is False
    assert cfg.model.decode_head.output_weights == (1.0, ) * 6
    assert cfg.model.data_preprocessor.mean == (0.485, 0.456, 0.406)

    lrs = epoch_lrs(cfg, epochs)
    # research note section 3: epochs 1-6 of the reference
    assert lrs[:6] == pytest.approx([2e-5, 2e-5, 4e-5, 6e-5, 8e-5, 1e-4],
                                    rel=1e-12)
    poly = [1e-4 * (1 - (t - 5) / epochs)**0.9 for t in range(6, epochs)]
    assert lrs[6:] == pytest.approx(poly, rel=1e-9)
    if epochs == 500:
        assert lrs[-1] == pytest.approx(1.8675e-6, rel=1e-4)


@pytest.mark.parametrize('name', ['serankdet-w8_1xb4-400i_sirst-256x256.py',
                                  'serankdet-w8_1xb4-10k_sirst-256x256.py'])
def test_width_reduced_config_builds_small_model(name):
    cfg = Config.fromfile(osp.join(CONFIG_DIR, name))
    with torch.device('meta'):
        model = MODELS.build(cfg.model)
    assert model.backbone.channels == [8, 16, 32, 64, 128]
    # the reference K per stage is kept by scaling the budget with the width
    assert model.backbone.topks == [512, 256, 128, 64, 32]
    assert sum(p.numel() for p in model.parameters()) == 3_435_054


def test_flagship_schedule_stops_when_validation_iou_stops_rising():
    cfg = Config.fromfile(
        osp.join(CONFIG_DIR, 'serankdet-w8_1xb4-10k_sirst-256x256.py'))
    assert (cfg.train_cfg.max_iters, cfg.train_cfg.val_interval) == (10200,
                                                                      425)
    warmup, poly = cfg.param_scheduler
    assert (warmup.end, poly.begin, poly.end) == (425, 425, 10200)
    assert cfg.default_hooks.checkpoint.interval == 425
    (stopper, ) = [hook for hook in cfg.custom_hooks
                   if hook.type == 'EarlyStoppingHook']
    assert (stopper.monitor, stopper.rule, stopper.min_delta,
            stopper.patience) == ('irstd/IoU', 'greater', 0.005, 6)
