"""Converters from the reference implementations' checkpoints to ours.

Each model registers a :class:`BaseConverter` in
:data:`serankdet.registry.CONVERTERS` in its own module here;
:func:`map_state_dict` maps a state dict with strict key and shape checks
for all of them; :mod:`serankdet.apis.conversion` reads the configs and
checkpoints and writes ours.
"""
from serankdet.registry import CONVERTERS
from .base import (BaseConverter, ConversionError, RuleConverter,
                   converter_names, extract_state_dict, get_converter,
                   map_state_dict)
# one module per model; importing it registers its converter
from .basicirstd import ACMConverter, ALCNetConverter
from .datransnet import DATransNetConverter
from .dnanet import DNANetConverter
from .mshnet import MSHNetConverter
from .samspl import SAMSPLConverter
from .sctransnet import SCTransNetConverter
from .serankdet import SeRankDetConverter
from .uiunet import UIUNetConverter

__all__ = [
    'SCTransNetConverter',
    'ACMConverter', 'ALCNetConverter',
    'MSHNetConverter',
    'CONVERTERS', 'BaseConverter', 'RuleConverter', 'ConversionError',
    'converter_names', 'extract_state_dict', 'get_converter',
    'map_state_dict',
    'DATransNetConverter', 'DNANetConverter', 'SAMSPLConverter',
    'SeRankDetConverter', 'UIUNetConverter'
]
