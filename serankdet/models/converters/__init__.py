"""Converters from the reference implementations' checkpoints to ours.

Each model registers a :class:`BaseConverter` in
:data:`serankdet.registry.CONVERTERS` in its own module here;
:func:`convert_checkpoint` does the rest (safe loading, strict key and shape
checks, atomic writing) for all of them.
"""
from serankdet.registry import CONVERTERS
from .base import (BaseConverter, ConversionError, RuleConverter,
                   convert_checkpoint, convert_state_dict, converter_names,
                   extract_state_dict, find_config, get_converter)
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
    'convert_checkpoint', 'convert_state_dict', 'converter_names',
    'extract_state_dict', 'find_config', 'get_converter',
    'DATransNetConverter', 'DNANetConverter', 'SAMSPLConverter',
    'SeRankDetConverter', 'UIUNetConverter'
]
