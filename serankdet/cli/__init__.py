"""What the command-line tools share: arguments, config reading and
checking, work folders, error reporting. The tools are its only users;
nothing in the library imports it.

Names are imported on first use, so that ``from serankdet.cli import
add_common_args, run_cli`` costs nothing and a tool's ``--help`` answers at
once; the rest pulls in torch and the toolbox.
"""
import importlib

_EXPORTS = {
    'CfgOptionsAction': 'args', 'add_backend_args': 'args',
    'add_common_args': 'args',
    'add_launcher_args': 'args', 'export_local_rank': 'args',
    'is_rank_zero': 'args', 'prepare_distributed_process': 'args',
    'ConfigError': 'config', 'build_runner': 'config',
    'check_config': 'config', 'check_data_roots': 'config',
    'load_config': 'config',
    'merge_cfg_options': 'config', 'read_config_with_options': 'config',
    'registered_names': 'config',
    'use_auto_scale_lr': 'config', 'use_tensorboard': 'config',
    'resolve_model_args': 'config',
    'DEBUG_ENV': 'errors', 'MissingPackageError': 'errors',
    'describe_error': 'errors', 'require_packages': 'errors',
    'run_cli': 'errors',
    'WorkDirInUseError': 'work_dir', 'check_output_file': 'work_dir',
    'lock_work_dir': 'work_dir', 'resume_latest': 'work_dir',
    'tidy_if_failed_early': 'work_dir', 'use_fresh_work_dir': 'work_dir',
}

__all__ = sorted(_EXPORTS)


def __getattr__(name):
    if name not in _EXPORTS:
        raise AttributeError(f'module {__name__!r} has no attribute {name!r}')
    module = importlib.import_module(f'.{_EXPORTS[name]}', __name__)
    return getattr(module, name)
