from .formatting import PackIRSTDInputs
from .loading import LoadIRSTDAnnotations, LoadIRSTDImageFromFile
from .copy_paste import TargetCopyPaste
from .hard_negatives import (HardNegativeRandomCrop, read_hard_negatives,
                             write_hard_negatives)
from .processing import (LegacyTestResize, RandomGaussianBlur,
                         RandomRescaleLongSide, RandomTranspose,
                         TargetBiasedRandomCrop)

__all__ = [
    'PackIRSTDInputs', 'LoadIRSTDAnnotations', 'LoadIRSTDImageFromFile',
    'HardNegativeRandomCrop', 'read_hard_negatives', 'write_hard_negatives',
    'LegacyTestResize', 'RandomGaussianBlur', 'RandomRescaleLongSide',
    'RandomTranspose', 'TargetBiasedRandomCrop', 'TargetCopyPaste'
]
