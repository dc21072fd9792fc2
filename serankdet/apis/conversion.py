"""Checkpoint conversion with its file I/O: reading the configs that
define our models, loading reference checkpoints, writing ours.

The key mapping itself is the converters' (:mod:`serankdet.models.converters`,
which read and write no file). Configs are found without the source tree: a
built wheel ships ``configs/`` as ``serankdet/.mim/configs`` (the OpenMMLab
layout, see ``setup.py``); a source checkout or an editable install reads the
repository's ``configs/``.
"""
import os
import os.path as osp
import tempfile
from importlib.resources import files
from typing import Dict, List, Optional, Tuple

import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope

from serankdet.models.converters import (BaseConverter, extract_state_dict,
                                         get_converter, map_state_dict)
from serankdet.registry import MODELS
from serankdet.utils.checkpoint import load_checkpoint_file


def config_roots() -> List[str]:
    """Folders whose ``configs/`` the converters read, in order: the
    package's ``.mim`` (installed from a wheel), then the source checkout
    the package sits in (an editable install or ``PYTHONPATH=<repo>``)."""
    package = osp.abspath(str(files('serankdet')))
    checkout = osp.dirname(package)
    roots = [osp.join(package, '.mim')]
    if osp.isfile(osp.join(checkout, 'setup.py')):
        roots.append(checkout)
    return [root for root in roots if osp.isdir(osp.join(root, 'configs'))]


def find_config(path: str, from_cwd: bool = False) -> str:
    """Absolute path of a config.

    ``path`` is absolute, or relative to the working directory (only with
    ``from_cwd``, for a path the user gave), or a ``configs/...`` path found
    under :func:`config_roots`.
    """
    if osp.isabs(path):
        return path
    if from_cwd and osp.isfile(path):
        return osp.abspath(path)
    roots = config_roots()
    for root in roots:
        candidate = osp.join(root, path)
        if osp.isfile(candidate):
            return candidate
    where = ['the working directory'] if from_cwd else []
    where += roots
    raise FileNotFoundError(f'config {path} not found (looked in '
                            f'{", ".join(where) or "no configs folder"})')


def expected_shapes(converter: BaseConverter,
                    config: Optional[str] = None) -> Dict[str, torch.Size]:
    """Keys and shapes of our model built from ``config`` (a path the user
    gave) or else the converter's config."""
    path = find_config(config, from_cwd=True) if config else \
        find_config(converter.config)
    cfg = Config.fromfile(path)
    # the model's modules are registered (imported with the converters)
    with torch.device('meta'), DefaultScope.overwrite_default_scope(
            'serankdet'):
        model = MODELS.build(cfg.model)
    return {k: v.shape for k, v in model.state_dict().items()}


def convert_state_dict(name: str, reference: Dict[str, torch.Tensor],
                       config: Optional[str] = None
                       ) -> Tuple[Dict[str, torch.Tensor], List[str]]:
    """Map a reference state dict onto the keys of our model built from
    ``config`` (a path the user gave) or else the converter's config
    (:func:`serankdet.models.converters.map_state_dict`).

    Returns:
        (state dict with our keys, notes on deliberately dropped keys).

    Raises:
        ConversionError: listing reference keys with no mapping, our keys left
            without a value, and shape mismatches.
    """
    converter = get_converter(name)
    return map_state_dict(converter, name, reference,
                          expected_shapes(converter, config),
                          config or converter.config)


def save_checkpoint_atomic(checkpoint: dict, dst: str) -> None:
    """Write ``checkpoint`` to ``dst`` through a temporary file and rename,
    so an interrupted write never leaves a truncated file at ``dst``."""
    folder = osp.dirname(osp.abspath(dst))
    os.makedirs(folder, exist_ok=True)
    handle, tmp = tempfile.mkstemp(dir=folder, suffix='.tmp')
    os.close(handle)
    try:
        torch.save(checkpoint, tmp)
        os.replace(tmp, dst)
    finally:
        if osp.exists(tmp):
            os.remove(tmp)


def convert_checkpoint(name: str, src: str, dst: str,
                       config: Optional[str] = None) -> List[str]:
    """Convert the reference checkpoint ``src`` into our checkpoint ``dst``.

    ``src`` is loaded without unpickling arbitrary objects (numpy scalars of
    the official files are allowlisted). ``dst`` holds ``state_dict`` and
    ``meta`` and loads with ``tools/test.py`` and ``init_model``.

    Returns:
        Notes on dropped keys.
    """
    reference = extract_state_dict(load_checkpoint_file(src, 'cpu'))
    state_dict, notes = convert_state_dict(name, reference, config)
    meta = dict(converted_from=osp.basename(src), model=name,
                config=config or get_converter(name).config)
    save_checkpoint_atomic(dict(state_dict=state_dict, meta=meta), dst)
    return notes
