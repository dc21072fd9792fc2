"""Checkpoint loading that never runs code from the file.

A checkpoint is a pickle, and unpickling can call any function the file
names. Every load in the toolbox (``tools/test.py``, ``tools/infer.py``,
``init_model``, ``load_from``, the converters, SAM2.1 trunk weights and
``--resume``) goes through torch's ``weights_only`` unpickler, which only
rebuilds tensors and containers and calls nothing but an allowlist. Ours,
:data:`SAFE_GLOBALS`, adds exactly what the toolbox's own checkpoints and
the official reference checkpoints hold besides tensors:

- numpy scalars, arrays and the numeric dtypes they are built with (the
  official checkpoints store ``best_iou`` and the like as numpy scalars; our
  runner stores numpy's generator state and metric histories as arrays);
- mmengine's ``HistoryBuffer`` (the message hub's logged scalars, in every
  checkpoint the runner writes), whose pickle fetches its four statistics
  methods with ``getattr(HistoryBuffer, name)``. ``builtins.getattr`` itself
  is never allowed (with it a pickle reaches ``eval``); the name is bound to
  :func:`history_buffer_method`, which returns those four methods and
  refuses everything else.

Resuming needs nothing more: the optimizer, scheduler, AMP and
random-generator states our runner writes are tensors, numbers, strings,
tuples and numpy arrays. A foreign training state (another toolbox's
runner) may hold other objects; it loads only inside
:func:`unsafe_checkpoint_loading`, which ``tools/train.py --unsafe-resume``
enters, for a file the user vouches for.
"""
import contextlib
import os.path as osp
import pickle
import re
import threading
from typing import Dict, List

import numpy as np
import torch
from mmengine.logging.history_buffer import HistoryBuffer

#: The statistics methods ``HistoryBuffer`` pickles by name.
HISTORY_BUFFER_METHODS = ('min', 'max', 'current', 'mean')

#: numpy dtypes of the scalars and arrays checkpoints hold (no object,
#: string or void dtypes: nothing we save uses them).
_NUMERIC_DTYPES = ('Bool', 'Int8', 'Int16', 'Int32', 'Int64', 'UInt8',
                   'UInt16', 'UInt32', 'UInt64', 'Float16', 'Float32',
                   'Float64', 'LongLong', 'ULongLong', 'Long', 'ULong',
                   'Int', 'UInt', 'Short', 'UShort', 'Byte', 'UByte')


class UnsafeCheckpointError(pickle.UnpicklingError):
    """A checkpoint names a global outside :data:`SAFE_GLOBALS`."""


class CheckpointReadError(ValueError):
    """A checkpoint file is incomplete or not a PyTorch checkpoint."""


def history_buffer_method(owner, name: str):
    """Stands for ``builtins.getattr`` while unpickling: only
    ``HistoryBuffer``'s statistics methods can be fetched.

    Raises:
        UnsafeCheckpointError: any other object or attribute.
    """
    if owner is HistoryBuffer and name in HISTORY_BUFFER_METHODS:
        return getattr(HistoryBuffer, name)
    raise UnsafeCheckpointError(
        f'builtins.getattr({_describe(owner)}, {name!r}) (only '
        'HistoryBuffer.' + '/'.join(HISTORY_BUFFER_METHODS) + ' may be '
        'fetched)')


def _describe(obj) -> str:
    name = getattr(obj, '__qualname__', None) or type(obj).__qualname__
    return name if isinstance(name, str) else type(obj).__name__


def _numpy_globals() -> list:
    """numpy's pickle entry points under the names current numpy writes
    (``numpy._core``) and numpy 1.x wrote (``numpy.core``, the official
    checkpoints), plus the numeric dtype classes (numpy >= 1.25 pickles a
    dtype's class where the dtype object itself is pickled)."""
    multiarray = (getattr(np, '_core', None) or np.core).multiarray
    found = [np.ndarray, np.dtype]
    for module in ('numpy._core.multiarray', 'numpy.core.multiarray'):
        found += [(multiarray.scalar, f'{module}.scalar'),
                  (multiarray._reconstruct, f'{module}._reconstruct')]
    dtypes = getattr(np, 'dtypes', None)  # numpy >= 1.25
    for name in _NUMERIC_DTYPES if dtypes else ():
        dtype_class = getattr(dtypes, f'{name}DType', None)
        if dtype_class is not None:
            found.append(dtype_class)
    return found


#: Globals besides torch's own that a checkpoint may name (see the module
#: docstring for why each is there).
SAFE_GLOBALS: List = [
    HistoryBuffer,
    (history_buffer_method, 'builtins.getattr'),
    *_numpy_globals(),
]

_unsafe = threading.local()


@contextlib.contextmanager
def unsafe_checkpoint_loading():
    """Unpickle checkpoints fully inside this block: the file can run any
    code. Only for ``--unsafe-resume`` of a file the user trusts."""
    previous = getattr(_unsafe, 'enabled', False)
    _unsafe.enabled = True
    try:
        yield
    finally:
        _unsafe.enabled = previous


def _offending_globals(filename: str, error: Exception) -> List[str]:
    """The globals that made the weights-only load fail: listed by torch
    for a zip checkpoint, else read from the unpickler's message."""
    try:
        with torch.serialization.safe_globals(SAFE_GLOBALS):
            found = torch.serialization.get_unsafe_globals_in_checkpoint(
                filename)
        if found:
            return found
    except Exception:  # legacy (non-zip) format: read the message
        pass
    message = str(error)
    reason = re.search(r'WeightsUnpickler error:\s*(.+?)(?:\n\n|$)', message,
                       re.DOTALL)
    reason = reason.group(1).strip() if reason else message.strip()
    named = re.findall(r'GLOBAL (\S+)', reason)
    return named or [reason.splitlines()[0]]


def load_checkpoint_file(filename, map_location=None):
    """Load a local checkpoint without running code from it.

    Args:
        filename (str): path of the file.
        map_location: passed to :func:`torch.load`.

    Raises:
        FileNotFoundError: the file does not exist.
        UnsafeCheckpointError: the file names a global outside
            :data:`SAFE_GLOBALS`; the message names the file and the global.
            Nothing of the file was executed.
        CheckpointReadError: the file is cut short or not a checkpoint.
    """
    filename = osp.expanduser(str(filename))
    if not osp.isfile(filename):
        raise FileNotFoundError(
            f'checkpoint file "{filename}" does not exist; check the path '
            '(tools print the path of every checkpoint they save).')
    try:
        if getattr(_unsafe, 'enabled', False):
            return torch.load(filename, map_location=map_location,
                              weights_only=False)
        with torch.serialization.safe_globals(SAFE_GLOBALS):
            return torch.load(filename, map_location=map_location,
                              weights_only=True)
    except pickle.UnpicklingError as err:
        offending = '; '.join(_offending_globals(filename, err))
        raise UnsafeCheckpointError(
            f'checkpoint {filename} was not loaded: it refers to '
            f'{offending}, which weights and training states never need '
            '(unpickling it could run code). Load only files you trust; to '
            'continue a run of another toolbox that you trust, use '
            'tools/train.py CONFIG --resume PATH --unsafe-resume.') from None
    except Exception as err:  # torch reports a damaged file in many ways
        text = str(err).strip()
        first = re.split(r'(?<=\.)\s', text.splitlines()[0])[0] if text else ''
        reason = f'{type(err).__name__}: {first}' if first else \
            type(err).__name__
        raise CheckpointReadError(
            f'checkpoint {filename} could not be read ({reason}); it is '
            'incomplete (a copy or download cut short) or not a PyTorch '
            'checkpoint.') from None


class CheckpointMismatchError(ValueError):
    """A checkpoint's weights do not fit the model (other model/variant)."""


def check_state_dict(model_state: Dict, checkpoint_state: Dict,
                     filename: str, model_name: str = 'the model',
                     max_listed: int = 5) -> None:
    """Raise :class:`CheckpointMismatchError` unless both state dicts have
    the same keys with the same shapes.

    The message counts the missing keys, unexpected keys and shape
    mismatches and lists the first ``max_listed`` of each.
    """
    missing = [k for k in model_state if k not in checkpoint_state]
    unexpected = [k for k in checkpoint_state if k not in model_state]
    shapes = [k for k in model_state if k in checkpoint_state
              and hasattr(checkpoint_state[k], 'shape')
              and tuple(checkpoint_state[k].shape) != tuple(
                  model_state[k].shape)]
    if not (missing or unexpected or shapes):
        return

    def listing(title: str, keys: List[str], describe) -> str:
        if not keys:
            return ''
        lines = [f'\n  {len(keys)} {title}:']
        lines += [f'    {describe(k)}' for k in keys[:max_listed]]
        if len(keys) > max_listed:
            lines.append(f'    ... and {len(keys) - max_listed} more')
        return '\n'.join(lines)

    def shape(state, key):
        return 'x'.join(map(str, state[key].shape)) or 'scalar'

    raise CheckpointMismatchError(
        f'checkpoint {filename} does not fit {model_name} (saved from '
        'another model or variant?); nothing was loaded.' +
        listing('weights of the model missing from the checkpoint', missing,
                lambda k: f'{k} ({shape(model_state, k)})') +
        listing('checkpoint weights the model does not have', unexpected,
                lambda k: f'{k} ({shape(checkpoint_state, k)})') +
        listing('shape mismatches (checkpoint vs model)', shapes,
                lambda k: f'{k}: {shape(checkpoint_state, k)} vs '
                f'{shape(model_state, k)}') +
        '\nUse the config the checkpoint was trained with, or convert '
        'foreign weights with tools/model_converters/official2serankdet.py.')
