"""What the command-line tools share: arguments, config reading and
checking, work folders, error reporting. The tools are its only users;
nothing in the library imports it."""
from .args import add_common_args, add_launcher_args, export_local_rank
from .config import (ConfigError, build_runner, check_config, load_config,
                     merge_cfg_options, registered_names)
from .errors import DEBUG_ENV, describe_error, run_cli
from .work_dir import resume_latest, use_fresh_work_dir

__all__ = [
    'add_common_args', 'add_launcher_args', 'export_local_rank',
    'ConfigError', 'build_runner', 'check_config', 'load_config',
    'merge_cfg_options', 'registered_names', 'DEBUG_ENV', 'describe_error',
    'run_cli', 'resume_latest', 'use_fresh_work_dir'
]
