from .checkpoint import (SAFE_GLOBALS, CheckpointReadError,
                         UnsafeCheckpointError, load_checkpoint_file,
                         unsafe_checkpoint_loading)
from .compat import mmcv_ops_importable, patch_cpu_distributed
from .mixed_precision import use_mixed_precision, warn_if_bfloat16_emulated

__all__ = [
    'SAFE_GLOBALS', 'CheckpointReadError', 'UnsafeCheckpointError',
    'load_checkpoint_file', 'unsafe_checkpoint_loading',
    'mmcv_ops_importable', 'patch_cpu_distributed', 'use_mixed_precision',
    'warn_if_bfloat16_emulated'
]
