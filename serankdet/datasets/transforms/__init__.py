from .formatting import PackIRSTDInputs
from .loading import LoadIRSTDAnnotations, LoadIRSTDImageFromFile
from .processing import (LegacyTestResize, RandomGaussianBlur,
                         RandomRescaleLongSide)
from .samspl_copy_paste import RandomTranspose  # noqa: F401
from .samspl_copy_paste import TargetCopyPaste  # noqa: F401

__all__ = [
    'PackIRSTDInputs', 'LoadIRSTDAnnotations', 'LoadIRSTDImageFromFile',
    'LegacyTestResize', 'RandomGaussianBlur', 'RandomRescaleLongSide'
]
