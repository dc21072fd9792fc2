"""Safe checkpoint loading (compatibility fix 2, see :mod:`.compat`).

A checkpoint is a pickle, and unpickling can run arbitrary code. torch's
``weights_only=True`` unpickler only rebuilds tensors, containers and the
globals on an allowlist. :data:`SAFE_GLOBALS` lists what the toolbox's own
checkpoints and the official reference checkpoints hold besides tensors:
mmengine's ``HistoryBuffer`` (in ``message_hub``) and numpy scalars, arrays
and dtypes. Everything that only needs weights (``tools/test.py``,
``load_from``, ``init_model``, the converters) loads this way.

Resuming one of the toolbox's own runs restores the whole training state and
is allowed to unpickle fully, inside :func:`trusted_checkpoint_loading`
(used by :class:`serankdet.engine.IRSTDRunner` for ``--resume`` only).
"""
import contextlib
import os.path as osp
import pickle
import threading

import numpy as np
import torch
from mmengine.logging.history_buffer import HistoryBuffer


def _numpy_globals():
    """numpy objects that pickled scalars, arrays and dtypes refer to."""
    core = getattr(np, '_core', None) or np.core
    found = [np.ndarray, np.dtype, core.multiarray.scalar,
             core.multiarray._reconstruct]
    # numpy >= 1.25 pickles dtypes through their classes (Float64DType...).
    found += [getattr(np.dtypes, name) for name in dir(np.dtypes)
              if name.endswith('DType')]
    return found


# HistoryBuffer pickles its statistics methods as getattr(HistoryBuffer,
# 'min'): getattr can only fetch attributes of allowlisted objects, and the
# weights-only unpickler refuses to call anything not on this list.
SAFE_GLOBALS = [HistoryBuffer, getattr, *_numpy_globals()]

_trust = threading.local()


@contextlib.contextmanager
def trusted_checkpoint_loading():
    """Allow full unpickling inside this block (resume of our own runs)."""
    previous = getattr(_trust, 'enabled', False)
    _trust.enabled = True
    try:
        yield
    finally:
        _trust.enabled = previous


class UnsafeCheckpointError(pickle.UnpicklingError):
    """A checkpoint holds objects outside :data:`SAFE_GLOBALS`."""


def load_checkpoint_file(filename, map_location=None, trusted=None):
    """Load a local checkpoint file.

    Args:
        filename (str): path of the file.
        map_location: passed to :func:`torch.load`.
        trusted (bool, optional): unpickle fully. Defaults to the state set by
            :func:`trusted_checkpoint_loading` (False outside it).

    Raises:
        FileNotFoundError: the file does not exist.
        UnsafeCheckpointError: the file holds objects that are not plain
            weights and full unpickling was not allowed.
    """
    filename = osp.expanduser(str(filename))
    if not osp.isfile(filename):
        raise FileNotFoundError(
            f'checkpoint file "{filename}" does not exist; check the path '
            '(tools print the path of every checkpoint they save).')
    if trusted is None:
        trusted = getattr(_trust, 'enabled', False)
    if trusted:
        return torch.load(filename, map_location=map_location,
                          weights_only=False)
    try:
        with torch.serialization.safe_globals(SAFE_GLOBALS):
            return torch.load(filename, map_location=map_location,
                              weights_only=True)
    except pickle.UnpicklingError as err:
        try:
            unsafe = torch.serialization.get_unsafe_globals_in_checkpoint(
                filename)
        except Exception:  # not a zip checkpoint: report torch's message
            unsafe = [str(err).splitlines()[0]]
        raise UnsafeCheckpointError(
            f'checkpoint "{filename}" holds objects that are not plain weights '
            f'({", ".join(unsafe)}), so it was not unpickled. Only load files '
            'you trust: to resume one of your own serankdet runs use '
            '`tools/train.py CONFIG --resume`; to use foreign weights, '
            'convert them with tools/model_converters/official2serankdet.py.'
        ) from err
