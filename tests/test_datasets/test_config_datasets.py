"""One walker finds the datasets a config reads: the run's checks
(check_data_roots) and check_dataset (config_splits) read the same
datasets, wrapped ones and split files included."""
import pytest
from mmengine.config import Config

from serankdet.cli import check_data_roots
from serankdet.datasets.check import config_splits
from serankdet.datasets.config_datasets import config_datasets


def _cfg(root, ann_file='train.txt'):
    split = dict(type='IRSTDDataset', data_root=str(root),
                 data_prefix=dict(img_path='images', seg_map_path='masks'),
                 ann_file=ann_file)
    return Config(dict(
        train_dataloader=dict(dataset=dict(
            type='ConcatDataset', datasets=[
                dict(type='RepeatDataset', times=2, dataset=split),
                dict(split, ann_file='extra.txt')])),
        val_dataloader=dict(dataset=dict(split, ann_file='test.txt')),
        test_dataloader=dict(dataset=dict(split, ann_file='test.txt'))))


def _layout(root, splits):
    for kind in ('images', 'masks'):
        (root / kind).mkdir(parents=True)
    for name, stems in splits.items():
        (root / name).write_text('\r\n'.join(stems) + '\r\n')


def test_wrapped_datasets_are_followed_to_the_ones_reading_files(tmp_path):
    found = config_datasets(_cfg(tmp_path))
    assert [d.key for d in found] == [
        'train_dataloader.dataset.datasets.0.dataset',
        'train_dataloader.dataset.datasets.1',
        'val_dataloader.dataset', 'test_dataloader.dataset']
    assert found[0].loader == 'train_dataloader'
    assert found[0].ann_file == str(tmp_path / 'train.txt')
    assert found[0].folder('seg_map_path') == str(tmp_path / 'masks')


def test_both_checks_read_the_split_files_of_wrapped_datasets(tmp_path):
    _layout(tmp_path, {'train.txt': ['a.png', 'b'], 'extra.txt': ['c'],
                       'test.txt': ['d.png']})
    cfg = _cfg(tmp_path)
    check_data_roots(cfg, ('train_dataloader', 'val_dataloader'))
    splits = config_splits(cfg)
    # the test loader reads what the val loader reads: checked once
    assert [(s.name, s.stems) for s in splits] == [
        ('train.datasets.0.dataset', ['a', 'b']),
        ('train.datasets.1', ['c']), ('val', ['d'])]
    assert {s.img_dir for s in splits} == {str(tmp_path / 'images')}


def test_both_checks_name_a_missing_split_file(tmp_path):
    _layout(tmp_path, {'train.txt': ['a'], 'test.txt': ['d']})
    cfg = _cfg(tmp_path)
    with pytest.raises(FileNotFoundError,
                       match=r'^train_dataloader\.dataset\.datasets\.1\.'
                       r'ann_file: split file .*extra\.txt does not exist'):
        check_data_roots(cfg, ('train_dataloader', ))
    with pytest.raises(FileNotFoundError, match=r'extra\.txt does not exist'):
        config_splits(cfg)
    # the val loader reads no missing file
    check_data_roots(cfg, ('val_dataloader', ))
