"""One ``error:`` line instead of a traceback for errors users cause."""
import errno
import inspect
import os
import re
import sys
from typing import Callable, Optional


#: Environment variable that makes the tools show full tracebacks.
DEBUG_ENV = 'SERANKDET_DEBUG'

_NOT_REGISTERED = re.compile(
    r'^(?P<name>\S+) is not in the (?:\S+::)?(?P<registry>.+?) registry')
_BATCH_OF_ONE = 'Expected more than 1 value per channel when training'
_UNEXPECTED_ARG = re.compile(
    r"(?P<cls>\w+)\.__init__\(\) got an unexpected keyword argument "
    r"'(?P<arg>\w+)'")


class MissingPackageError(ModuleNotFoundError):
    """An optional package a tool needs is not installed; the message says
    how to install it."""


def require_packages(names, install: str, purpose: str) -> None:
    """Raise :class:`MissingPackageError` naming the first of ``names``
    that is not installed, ``purpose`` (what needs it) and the ``install``
    command."""
    import importlib.util
    for name in names:
        if importlib.util.find_spec(name) is None:
            raise MissingPackageError(
                f'{purpose} needs the {name} package: install with '
                f'`{install}`', name=name)


def _strip_worker_traceback(message: str, error: BaseException) -> str:
    """DataLoader workers re-raise with the worker's traceback in the
    message: keep its last line."""
    if 'Original Traceback' not in message:
        return message
    marker = f'{type(error).__name__}: '
    lines = [line for line in message.splitlines()
             if line.startswith(marker)]
    return lines[-1][len(marker):] if lines else message


def describe_error(error: BaseException) -> Optional[str]:
    """A one-message description of an error users cause (bad config, data,
    checkpoint, diverged training), or None for anything else (a bug)."""
    from serankdet.engine.hooks import NonFiniteLossError
    from serankdet.models.converters import ConversionError
    from serankdet.utils import UnsafeCheckpointError
    from .config import registered_names, registries, suggest
    from .work_dir import WorkDirInUseError
    message = str(error.args[0]) if error.args else str(error)
    if isinstance(error, KeyError):
        match = _NOT_REGISTERED.match(message)
        if not match:
            return None
        name = match['name']
        return (f'unknown type {name!r} (not in the {match["registry"]} '
                f'registry){suggest(name, registered_names())}')
    if isinstance(error, TypeError):
        match = _UNEXPECTED_ARG.search(message)
        if not match:
            return None
        cls = next((r.get(match['cls']) for r in registries()
                    if r.get(match['cls']) is not None), None)
        params = (inspect.signature(cls).parameters
                  if inspect.isclass(cls) else [])
        return (f'{match["cls"]} has no argument {match["arg"]!r}'
                f'{suggest(match["arg"], params)}')
    if isinstance(error, ValueError) and message.startswith(
            _BATCH_OF_ONE):
        # PyTorch's BatchNorm on a (1, C, 1, 1) input, e.g. after global
        # pooling (ACM, ALCNet): the last training batch held one sample
        return (f'{message}: a training batch of one sample (the training '
                'set leaves one in its last batch); set '
                'train_dataloader.drop_last=True or another '
                'train_dataloader.batch_size')
    if isinstance(error, OSError) and error.errno == errno.ENOSPC:
        where = f' writing {error.filename}' if error.filename else ''
        return f'the disk is full{where}; free some space and run again'
    if isinstance(error, (ValueError, FileNotFoundError, FileExistsError,
                          PermissionError, MissingPackageError,
                          WorkDirInUseError,
                          NonFiniteLossError,
                          UnsafeCheckpointError, ConversionError)):
        return _strip_worker_traceback(str(error), error)
    return None


def run_cli(main: Callable, argv=None) -> int:
    """Run a tool's ``main(argv)`` and return its exit status (what it
    returns, 0 for None); errors users cause are printed as one
    ``error: ...`` line (exit status 2) instead of a traceback, unless the
    environment sets ``SERANKDET_DEBUG=1``."""
    from ..utils.cpu_threads import configure_cpu_threads
    from .args import leave_process_group
    # before anything loads torch, which reads the wait policy once
    configure_cpu_threads()
    succeeded = False
    try:
        status = main(argv) or 0
        sys.stdout.flush()  # a closed pipe is found here, not at exit
        succeeded = True
        return status
    except BrokenPipeError:
        # the reader of the output went away (`| head`): nothing more can
        # be written there, at exit either
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        print('error: the output pipe was closed (e.g. by `| head`) before '
              'the tool finished writing; run it without the pipe to see '
              'all of it', file=sys.stderr)
        return 2
    except Exception as error:
        message = describe_error(error)
        if message is None or os.environ.get(DEBUG_ENV, '0') != '0':
            raise
        print(f'error: {message}\n(set {DEBUG_ENV}=1 to see the traceback)',
              file=sys.stderr)
        return 2
    finally:
        leave_process_group(wait_for_peers=succeeded)
