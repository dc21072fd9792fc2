from .formatting import PackIRSTDInputs
from .loading import LoadIRSTDAnnotations, LoadIRSTDImageFromFile
from .copy_paste import TargetCopyPaste
from .processing import (LegacyTestResize, RandomGaussianBlur,
                         RandomRescaleLongSide, RandomTranspose,
                         TargetBiasedRandomCrop)

__all__ = [
    'PackIRSTDInputs', 'LoadIRSTDAnnotations', 'LoadIRSTDImageFromFile',
    'LegacyTestResize', 'RandomGaussianBlur', 'RandomRescaleLongSide',
    'RandomTranspose', 'TargetBiasedRandomCrop', 'TargetCopyPaste'
]
