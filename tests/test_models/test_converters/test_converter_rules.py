"""The converter registry, the config lookup and the rule-based key mapping
every converter is built from."""
import os.path as osp

import pytest

from serankdet.apis.conversion import config_roots, find_config
from serankdet.models.converters import (BaseConverter, ConversionError,
                                         converter_names, get_converter)
from serankdet.models.converters.base import (renumber, res_cbam_key,
                                              rule_key_map)
from serankdet.registry import CONVERTERS

# every model with a converter from its official checkpoints
CONVERTER_NAMES = ['acm', 'alcnet', 'datransnet', 'dnanet', 'mshnet',
                   'samspl', 'sctransnet', 'serankdet', 'uiunet']


def test_rules_rename_whole_keys_first_match_wins():
    map_key = rule_key_map(
        [(r'enc(\d)\.(.+)', lambda m: f'backbone.stages.{int(m[1]) - 1}.'
          f'{m[2]}'),
         (r'enc\d\..+', 'never.used'),
         (r'head\.(weight|bias)', r'decode_head.conv.\1')],
        strip_prefixes=('module.', 'model.'))
    assert map_key('module.model.enc2.conv.weight') == \
        'backbone.stages.1.conv.weight'
    assert map_key('head.bias') == 'decode_head.conv.bias'
    # patterns match whole keys only; unknown keys map to None
    assert map_key('head.bias.extra') is None
    assert map_key('other.weight') is None


def test_renumber_shifts_the_reference_count_to_our_index():
    map_key = rule_key_map([
        (r'layer(\d)_(\d)\.(.+)',
         renumber(r'stages.\1.blocks.{}.\3', group=2)),
        (r'up(\d)\.(.+)', renumber(r'ups.{}.\2', offset=2)),
        (r'side(\d)\.(.+)', renumber(r'sides.{}.\2')),
    ])
    assert map_key('layer3_1.conv.weight') == 'stages.3.blocks.0.conv.weight'
    assert map_key('up2.bias') == 'ups.0.bias'
    assert map_key('side4.weight') == 'sides.3.weight'


def test_res_cbam_key_renames_only_the_spatial_gate_conv():
    assert res_cbam_key('sa.conv1.weight') == 'sa.conv.weight'
    assert res_cbam_key('conv1.weight') == 'conv1.weight'
    assert res_cbam_key('ca.fc1.weight') == 'ca.fc1.weight'


def test_converters_are_registered_classes():
    assert converter_names() == CONVERTER_NAMES
    for name in converter_names():
        converter = get_converter(name)
        assert isinstance(converter, BaseConverter)
        assert CONVERTERS.get(name) is type(converter)
        assert converter.config.startswith('configs/')


def test_unknown_converter_names_the_known_ones():
    message = ('unknown model "{}"; converters exist for '
               + ', '.join(CONVERTER_NAMES))
    # a dotted import path is not a converter name either
    for name in ('foo', 'serankdet.models.converters.base.BaseConverter'):
        with pytest.raises(ConversionError) as error:
            get_converter(name)
        assert str(error.value) == message.format(name)


def test_configs_found_in_the_package_or_the_checkout(tmp_path, monkeypatch):
    roots = config_roots()
    assert roots, 'no configs/ next to the package nor in it'
    config = get_converter('serankdet').config
    assert find_config(config) == osp.join(roots[0], config)
    # a path the user gives is read from the working directory first
    monkeypatch.chdir(tmp_path)
    (tmp_path / 'configs' / '_base_' / 'models').mkdir(parents=True)
    (tmp_path / config).write_text('model = dict()\n')
    assert find_config(config, from_cwd=True) == str(tmp_path / config)
    assert find_config(config) == osp.join(roots[0], config)
    with pytest.raises(FileNotFoundError, match='config configs/none.py '
                       'not found'):
        find_config('configs/none.py')
