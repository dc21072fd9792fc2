from .checkpoint import (SAFE_GLOBALS, CheckpointMismatchError,
                         CheckpointReadError, UnsafeCheckpointError,
                         check_state_dict, load_checkpoint_file,
                         unsafe_checkpoint_loading)
from .file_hash import file_sha256
from .compat import mmcv_ops_importable, patch_cpu_distributed
from .mixed_precision import use_mixed_precision, warn_if_bfloat16_emulated
from .naming import output_names

__all__ = [
    'SAFE_GLOBALS', 'CheckpointMismatchError', 'CheckpointReadError',
    'UnsafeCheckpointError', 'check_state_dict', 'load_checkpoint_file',
    'unsafe_checkpoint_loading', 'mmcv_ops_importable',
    'patch_cpu_distributed', 'use_mixed_precision',
    'warn_if_bfloat16_emulated', 'output_names', 'file_sha256'
]
