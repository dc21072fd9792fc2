"""Helpers the library and the tools share.

Names are imported on first use, so that ``serankdet.utils.cpu_threads``
can be configured before anything imports torch (libgomp reads its
environment once, when torch loads it).
"""
import importlib

_EXPORTS = {
    'SAFE_GLOBALS': 'checkpoint', 'CheckpointMismatchError': 'checkpoint',
    'CheckpointReadError': 'checkpoint',
    'UnsafeCheckpointError': 'checkpoint',
    'check_state_dict': 'checkpoint', 'load_checkpoint_file': 'checkpoint',
    'unsafe_checkpoint_loading': 'checkpoint',
    'file_sha256': 'file_hash',
    'mmcv_ops_importable': 'compat', 'patch_cpu_distributed': 'compat',
    'use_mixed_precision': 'mixed_precision',
    'warn_if_bfloat16_emulated': 'mixed_precision',
    'output_names': 'naming',
    'configure_cpu_threads': 'cpu_threads',
    'describe_cpu_threads': 'cpu_threads',
    'waits_passively': 'cpu_threads',
}

__all__ = sorted(_EXPORTS)


def __getattr__(name):
    if name not in _EXPORTS:
        raise AttributeError(f'module {__name__!r} has no attribute {name!r}')
    module = importlib.import_module(f'.{_EXPORTS[name]}', __name__)
    return getattr(module, name)
