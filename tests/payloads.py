"""Hostile checkpoints: each writes a marker file if unpickling runs it."""
import os.path as osp

import torch
from mmengine.logging.history_buffer import HistoryBuffer


class _Call:
    """Pickles as ``func(*args)`` (a REDUCE of ``func``)."""

    def __init__(self, func, *args):
        self.func, self.args = func, args

    def __reduce__(self):
        return self.func, self.args


def _write_marker_code(marker: str) -> str:
    return f"__import__('pathlib').Path({marker!r}).write_text('ran')"


def getattr_chain(marker: str) -> _Call:
    """Reaches ``eval`` through allowlisted names only: ``builtins.getattr``
    on ``HistoryBuffer.__init__`` gives the builtins dict, and torch's own
    ``_rebuild_from_type_v2`` calls whatever callable it is handed."""
    rebuild = torch._tensor._rebuild_from_type_v2
    builtins_dict = _Call(getattr, HistoryBuffer.__init__, '__builtins__')
    dict_get = _Call(getattr, builtins_dict, 'get')
    builtin_type = _Call(getattr, dict_get, '__class__')
    eval_function = _Call(rebuild, dict_get, builtin_type, ('eval', ), {})
    return _Call(rebuild, eval_function, builtin_type,
                 (_write_marker_code(marker), ), {})


class _ReducePayload:
    """The classic payload: ``__reduce__`` names ``builtins.exec``."""

    def __init__(self, marker: str):
        self.marker = marker

    def __reduce__(self):
        return exec, (_write_marker_code(self.marker), )


#: name -> (payload builder, text the error must name)
PAYLOADS = {
    'getattr_chain': (getattr_chain, 'builtins.getattr'),
    'reduce': (_ReducePayload, 'builtins.exec'),
}


def write_hostile_checkpoint(folder: str, kind: str, state_dict=None):
    """A checkpoint with real weights (``state_dict``) and the ``kind``
    payload beside them.

    Returns:
        tuple[str, str]: the checkpoint path and the marker path that exists
        only if the payload ran.
    """
    builder, _ = PAYLOADS[kind]
    marker = osp.join(folder, f'{kind}.ran')
    path = osp.join(folder, f'{kind}.pth')
    torch.save(dict(state_dict=state_dict or {}, meta=dict(iter=1),
                    payload=builder(marker)), path)
    return path, marker
