"""Converters from the reference implementations' checkpoints to ours.

Each model registers a key-mapping function with :func:`register_converter`
in its own module here; :func:`convert_checkpoint` does the rest (safe
loading, strict key and shape checks, atomic writing) for all of them.
"""
from .base import (CONVERTERS, ConversionError, convert_checkpoint,
                   convert_state_dict, extract_state_dict, register_converter)

# Model converters register themselves on import (one line per model):
from . import serankdet  # noqa: F401,E402
from . import datransnet  # noqa: F401,E402
from . import samspl  # noqa: F401,E402

__all__ = [
    'CONVERTERS', 'ConversionError', 'convert_checkpoint',
    'convert_state_dict', 'extract_state_dict', 'register_converter'
]
