"""The synthetic dataset generator and the bundled demo config."""
import os
import os.path as osp
import runpy
import sys

import numpy as np
import pytest
import torch
from mmengine import Config

from serankdet.datasets import (SyntheticIRSTDDataset,
                                ensure_synthetic_dataset,
                                load_synthetic_targets, make_synthetic_sample)
from serankdet.datasets.image_io import imread_gray, imread_mask
from serankdet.registry import DATASETS

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def _files(root):
    out = {}
    for dirpath, _, names in os.walk(root):
        for name in names:
            path = osp.join(dirpath, name)
            with open(path, 'rb') as f:
                out[osp.relpath(path, root)] = f.read()
    return out


def test_same_seed_same_bytes_other_seed_differs(tmp_path):
    a = ensure_synthetic_dataset(str(tmp_path / 'a'), 6, 3, (48, 64), seed=3)
    ensure_synthetic_dataset(str(tmp_path / 'b'), 6, 3, (48, 64), seed=3)
    c = ensure_synthetic_dataset(str(tmp_path / 'c'), 6, 3, (48, 64), seed=4)
    files_a, files_b = _files(tmp_path / 'a'), _files(tmp_path / 'b')
    assert len(files_a) == 2 * (6 + 3) + 1
    assert files_a == files_b
    files_c = _files(tmp_path / 'c')
    assert files_a.keys() == files_c.keys()
    assert all(files_a[k] != files_c[k] for k in files_a
               if k.endswith('.png') and '/images/' in k)
    assert a['targets'] != c['targets']
    # frames depend on (seed, split, index) only, not on the counts
    d = ensure_synthetic_dataset(str(tmp_path / 'd'), 2, 1, (48, 64), seed=3)
    assert d['targets']['trainval']['train_00001'] == \
        a['targets']['trainval']['train_00001']
    assert _files(tmp_path / 'd')['test/images/test_00000.png'] == \
        files_a['test/images/test_00000.png']


def test_target_statistics_and_json_match_masks(tmp_path):
    root = str(tmp_path / 'syn')
    meta = ensure_synthetic_dataset(root, 60, 0, (64, 64), seed=0)
    assert meta == load_synthetic_targets(root)
    assert meta['params']['img_size'] == [64, 64]
    frames = meta['targets']['trainval']
    counts = [len(t) for t in frames.values()]
    assert 0 in counts and max(counts) <= 4
    assert 1 <= counts.count(0) <= 15  # about 10 % negatives
    for stem, targets in frames.items():
        img = imread_gray(osp.join(root, 'trainval/images', stem + '.png'))
        mask = imread_mask(osp.join(root, 'trainval/masks', stem + '.png'))
        assert img.dtype == np.uint8 and img.shape == (64, 64)
        assert mask.sum() == sum(t['area'] for t in targets)
        for t in targets:
            assert 1 <= t['area'] <= 80
            assert 5 <= t['snr'] <= 15
            y, x = (int(round(v)) for v in t['centroid_yx'])
            assert mask[y, x] == 1
            # the target stands out from its 17x17 neighbourhood
            window = img[max(y - 8, 0):y + 9, max(x - 8, 0):x + 9]
            assert img[max(y - 1, 0):y + 2, max(x - 1, 0):x + 2].max() > \
                np.median(window) + 2 * t['peak'] / t['snr']


def test_single_sample_and_16bit(tmp_path):
    frame, mask, targets = make_synthetic_sample(
        np.random.default_rng(5), (40, 50))
    assert frame.shape == mask.shape == (40, 50)
    assert frame.dtype == np.float32 and mask.dtype == np.uint8
    root8 = str(tmp_path / 's8')
    root16 = str(tmp_path / 's16')
    ensure_synthetic_dataset(root8, 2, 0, (32, 32), seed=1)
    ensure_synthetic_dataset(root16, 2, 0, (32, 32), seed=1, bit_depth=16)
    img8 = imread_gray(osp.join(root8, 'trainval/images/train_00000.png'))
    img16 = imread_gray(osp.join(root16, 'trainval/images/train_00000.png'))
    assert img16.dtype == np.uint16
    # the same scene at 257x finer quantization
    assert np.abs(img16 / 257.0 - img8).max() <= 0.5 + 1e-6


def test_existing_folder_checks(tmp_path):
    root = str(tmp_path / 'syn')
    ensure_synthetic_dataset(root, 2, 1, (32, 32))
    ensure_synthetic_dataset(root, 2, 1, (32, 32))  # reused as is
    with pytest.raises(ValueError, match='generated with'):
        ensure_synthetic_dataset(root, 3, 1, (32, 32))
    os.makedirs(tmp_path / 'other')
    with pytest.raises(ValueError, match='not a synthetic dataset'):
        ensure_synthetic_dataset(str(tmp_path / 'other'), 2, 1, (32, 32))
    with pytest.raises(ValueError, match='bit_depth'):
        ensure_synthetic_dataset(root, 2, 1, (32, 32), bit_depth=12)
    # no temporary folders are left behind
    assert sorted(os.listdir(tmp_path)) == ['other', 'syn']


def test_dataset_generates_on_first_use(tmp_path):
    root = str(tmp_path / 'syn')
    ds = SyntheticIRSTDDataset(
        data_root=root, num_train=3, num_test=2, img_size=(32, 32),
        data_prefix=dict(img_path='test/images', seg_map_path='test/masks'))
    assert len(ds) == 2 and osp.isfile(osp.join(root, 'targets.json'))
    assert ds.get_data_info(0)['img_id'] == 'test_00000'


def test_demo_config_pipeline(tmp_path):
    """Build the datasets of configs/_base_/datasets/synthetic.py."""
    cfg = Config.fromfile(
        osp.join(REPO_ROOT, 'configs/_base_/datasets/synthetic.py'))
    assert cfg.val_evaluator.type == 'IRSTDMetric'
    assert cfg.synthetic_cfg == dict(num_train=200, num_test=50,
                                     img_size=(128, 128), seed=0)
    for key in ('train_dataloader', 'val_dataloader'):
        dataset = cfg[key].dataset
        dataset.data_root = str(tmp_path / 'syn')
        dataset.update(num_train=8, num_test=4)  # keep the test fast
    train = DATASETS.build(cfg.train_dataloader.dataset)
    val = DATASETS.build(cfg.val_dataloader.dataset)
    assert (len(train), len(val)) == (8, 4)
    np.random.seed(0)
    for i in range(len(train)):
        item = train[i]
        assert item['inputs'].shape == (1, 128, 128)
        assert item['inputs'].dtype == torch.uint8
        sample = item['data_samples']
        assert sample.gt_sem_seg.data.shape == (1, 128, 128)
        assert set(sample.gt_sem_seg.data.unique().tolist()) <= {0, 1}
        assert sample.img_max_value == 255
    item = val[0]
    assert item['inputs'].shape == (1, 128, 128)
    assert item['data_samples'].ori_shape == (128, 128)


def test_make_synthetic_dataset_tool(tmp_path, monkeypatch, capsys):
    out = tmp_path / 'tool'
    monkeypatch.setattr(sys, 'argv', [
        'make_synthetic_dataset.py', str(out), '--num-train', '2',
        '--num-test', '1', '--size', '24', '40'
    ])
    runpy.run_path(
        osp.join(REPO_ROOT, 'tools/misc/make_synthetic_dataset.py'),
        run_name='__main__')
    assert 'trainval: 2 frames' in capsys.readouterr().out
    meta = load_synthetic_targets(str(out))
    assert meta['params']['img_size'] == [24, 40]
    img = imread_gray(str(out / 'test/images/test_00000.png'))
    assert img.shape == (24, 40)
