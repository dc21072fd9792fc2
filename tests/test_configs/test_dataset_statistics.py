"""Input statistics belong to the dataset configs: a model base never
carries a dataset's, and a config standardises with its own dataset's."""
import glob
import os.path as osp

import pytest
from mmengine.config import Config

from serankdet import recipes
from serankdet.models.data_preprocessor import IRSTDDataPreProcessor
from tests.test_configs.test_config_snapshot import CONFIG_DIR, config_names

SHARED_BASES = ('_base_/models/acm.py', '_base_/models/sctransnet.py')


def _load(name):
    return Config.fromfile(osp.join(CONFIG_DIR, name))


def _bases(kind):
    return sorted(
        osp.relpath(path, CONFIG_DIR).replace(osp.sep, '/') for path in
        glob.glob(osp.join(CONFIG_DIR, '_base_', kind, '*.py')))


def _key(preprocessor):
    """A preprocessor's (mean, std), comparable with other configs'."""
    return tuple(map(lambda v: v if v is None else tuple(v),
                     (preprocessor.get('mean'), preprocessor.get('std'))))


def _stated_statistics():
    """{dataset base: its img_norm_cfg} of those that state one."""
    stated = {name: _load(name).get('img_norm_cfg')
              for name in _bases('datasets')}
    return {name: norm for name, norm in stated.items() if norm}


def _dataset_statistics():
    """{(mean, std) as a 1- or 3-channel preprocessor holds them: the
    img_norm_cfg they come from} over every dataset base."""
    return {_key(recipes.normalization(norm, channels)): norm
            for norm in _stated_statistics().values() for channels in (1, 3)}


def test_the_datasets_with_known_statistics_state_them():
    assert {'_base_/datasets/sirst.py', '_base_/datasets/nudt_sirst.py',
            '_base_/datasets/irstd1k.py'} <= set(_stated_statistics())


@pytest.mark.parametrize('name', _bases('models'))
def test_model_base_holds_no_dataset_statistics(name):
    preprocessor = _load(name).model.data_preprocessor
    owner = _dataset_statistics().get(_key(preprocessor))
    assert owner is None, f'{name} holds the dataset statistics {owner}'
    if name in SHARED_BASES:
        assert _key(preprocessor) == (None, None)


@pytest.mark.parametrize('name', config_names())
def test_config_standardises_with_its_own_dataset_statistics(name):
    cfg = _load(name)
    preprocessor = dict(cfg.model.data_preprocessor)
    preprocessor.pop('type')
    IRSTDDataPreProcessor(**preprocessor)  # statistics given
    owner = _dataset_statistics().get(_key(preprocessor))
    if owner is not None:
        assert cfg.img_norm_cfg == owner, (
            f'{name} standardises with the statistics {owner}, its dataset '
            f'states {cfg.get("img_norm_cfg")}')


def _pair(tmp_path, dataset, body=''):
    path = tmp_path / 'pair.py'
    path.write_text(
        f"_base_ = ['{CONFIG_DIR}/_base_/models/acm.py', "
        f"'{CONFIG_DIR}/_base_/datasets/{dataset}.py']\n"
        'from serankdet import recipes  # noqa: E402\n' + body)
    return Config.fromfile(path)


def test_a_model_on_another_dataset_takes_that_datasets_statistics(
        tmp_path):
    cfg = _pair(tmp_path, 'nudt_sirst', 'model = dict(data_preprocessor='
                'recipes.normalization(_base_.img_norm_cfg))\n')
    assert cfg.model.data_preprocessor.mean == (107.80905151367188 / 255, )
    assert cfg.model.data_preprocessor.std == (33.02274703979492 / 255, )


def test_a_model_without_its_datasets_statistics_is_refused(tmp_path):
    # no silent default: without statistics the preprocessor is not built
    preprocessor = dict(_pair(tmp_path, 'nudt_sea').model.data_preprocessor)
    preprocessor.pop('type')
    with pytest.raises(ValueError, match='img_norm_cfg'):
        IRSTDDataPreProcessor(**preprocessor)
