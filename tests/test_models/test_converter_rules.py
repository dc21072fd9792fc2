"""The rule-based key mapping every converter is built from."""
from serankdet.models.converters.base import rule_key_map


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
