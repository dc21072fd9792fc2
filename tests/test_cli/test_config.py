"""Config checks before a run starts: data folders."""
import pytest
from mmengine.config import Config

from serankdet.cli import check_data_roots


def _cfg(root, dataset_type='IRSTDDataset', **extra):
    dataset = dict(type=dataset_type, data_root=str(root),
                   data_prefix=dict(img_path='trainval/images',
                                    seg_map_path='trainval/masks'), **extra)
    return Config(dict(train_dataloader=dict(dataset=dataset),
                       val_dataloader=dict(dataset=dict(
                           type='RepeatDataset', times=2, dataset=dataset))))


def test_existing_folders_pass(tmp_path):
    for sub in ('trainval/images', 'trainval/masks'):
        (tmp_path / sub).mkdir(parents=True)
    check_data_roots(_cfg(tmp_path), ('train_dataloader', 'val_dataloader'))


def test_missing_root_names_the_key_and_folder(tmp_path):
    missing = tmp_path / 'SIRST'
    with pytest.raises(FileNotFoundError,
                       match=r'^train_dataloader\.dataset\.data_root: folder '
                       rf'{missing} does not exist.*--cfg-options '
                       r'train_dataloader\.dataset\.data_root='):
        check_data_roots(_cfg(missing), ('train_dataloader', ))


def test_missing_root_hint_overrides_every_loader(tmp_path):
    missing = str(tmp_path / 'SIRST')
    dataset = dict(type='IRSTDDataset', data_root=missing)
    cfg = Config(dict(
        train_dataloader=dict(dataset=dict(type='ConcatDataset',
                                           datasets=[dataset])),
        val_dataloader=dict(dataset=dataset),
        test_dataloader=dict(dataset=dataset)))
    with pytest.raises(FileNotFoundError) as error:
        check_data_roots(cfg, ('train_dataloader', ))
    assert str(error.value).endswith(
        '--cfg-options train_dataloader.dataset.datasets.0.data_root='
        '/path/to/it val_dataloader.dataset.data_root=/path/to/it '
        'test_dataloader.dataset.data_root=/path/to/it')


def test_missing_prefix_in_a_wrapped_dataset(tmp_path):
    (tmp_path / 'trainval/images').mkdir(parents=True)
    with pytest.raises(FileNotFoundError,
                       match=r'^val_dataloader\.dataset\.dataset\.'
                       r'data_prefix\.seg_map_path: folder .*trainval/masks'):
        check_data_roots(_cfg(tmp_path), ('val_dataloader', ))


def test_synthetic_set_may_be_created_later(tmp_path):
    check_data_roots(_cfg(tmp_path / 'synthetic', 'SyntheticIRSTDDataset'),
                     ('train_dataloader', 'val_dataloader'))
