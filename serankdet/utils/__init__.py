from .checkpoint import (SAFE_GLOBALS, CheckpointReadError,
                         UnsafeCheckpointError, load_checkpoint_file,
                         unsafe_checkpoint_loading)
from .compat import (add_launcher_args, apply_all, export_local_rank,
                     install_mmcv_ext_stub, patch_cpu_distributed,
                     register_checkpoint_loader)
from .mixed_precision import use_mixed_precision, warn_if_bfloat16_emulated
from .setup_env import register_all_modules

__all__ = [
    'SAFE_GLOBALS', 'CheckpointReadError', 'UnsafeCheckpointError',
    'load_checkpoint_file', 'unsafe_checkpoint_loading',
    'add_launcher_args', 'apply_all',
    'export_local_rank', 'install_mmcv_ext_stub', 'patch_cpu_distributed',
    'register_checkpoint_loader', 'register_all_modules',
    'use_mixed_precision', 'warn_if_bfloat16_emulated'
]
