"""Checkpoint conversion machinery shared by every model."""
import os
import os.path as osp
import re
import tempfile
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Sequence, Tuple, Union

import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope

from serankdet.utils.checkpoint import load_checkpoint_file

KeyMap = Callable[[str], Optional[str]]


@dataclass
class ConverterSpec:
    """How to convert one reference model.

    Attributes:
        name (str): ``--model`` name.
        map_key (callable): reference key -> our key, or None for a key that
            is deliberately dropped (it must then match ``dropped``).
        config (str): config (relative to the repository root, or absolute)
            whose model defines the expected keys and shapes.
        dropped (dict): reference key prefix -> reason it is dropped.
    """
    name: str
    map_key: KeyMap
    config: str
    dropped: Dict[str, str] = field(default_factory=dict)


CONVERTERS: Dict[str, ConverterSpec] = {}

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.dirname(
    osp.abspath(__file__)))))


class ConversionError(RuntimeError):
    """The reference checkpoint does not map onto our model."""


def register_converter(name: str, config: str,
                       dropped: Optional[Dict[str, str]] = None):
    """Decorator registering ``map_key`` as the converter of ``name``."""

    def wrap(map_key: KeyMap) -> KeyMap:
        CONVERTERS[name] = ConverterSpec(name, map_key, config,
                                         dict(dropped or {}))
        return map_key

    return wrap


def rule_key_map(rules: Sequence[Tuple[str, Union[str, Callable]]],
                 strip_prefixes: Sequence[str] = ()) -> KeyMap:
    """A ``map_key`` from renaming rules.

    ``strip_prefixes`` are removed in order (e.g. a DDP ``module.``); then
    the first pattern that matches the whole key renames it: the
    replacement is a ``re`` template (``\\1``...) or a callable taking the
    match. Keys no rule matches map to None.
    """
    compiled = [(re.compile(pattern), target) for pattern, target in rules]

    def map_key(key: str) -> Optional[str]:
        for prefix in strip_prefixes:
            if key.startswith(prefix):
                key = key[len(prefix):]
        for pattern, target in compiled:
            match = pattern.fullmatch(key)
            if match:
                return target(match) if callable(target) else \
                    match.expand(target)
        return None

    return map_key


def extract_state_dict(checkpoint) -> Dict[str, torch.Tensor]:
    """The weights of a checkpoint: a bare state dict or one wrapped as
    ``state_dict`` / ``model_state_dict`` / ``model``."""
    if not isinstance(checkpoint, dict):
        raise ConversionError(
            f'expected a dict checkpoint, got {type(checkpoint).__name__}')
    for key in ('state_dict', 'model_state_dict', 'model'):
        if isinstance(checkpoint.get(key), dict):
            return checkpoint[key]
    if checkpoint and all(isinstance(v, torch.Tensor)
                          for v in checkpoint.values()):
        return checkpoint
    raise ConversionError(
        'no weights found: expected a bare state dict or a dict with '
        f'"state_dict", "model_state_dict" or "model"; keys are '
        f'{sorted(checkpoint)[:10]}')


def expected_shapes(spec: ConverterSpec,
                    config: Optional[str] = None) -> Dict[str, torch.Size]:
    """Keys and shapes of our model built from the converter's config."""
    from serankdet.registry import MODELS
    path = config or spec.config
    if not osp.isabs(path):
        path = osp.join(REPO_ROOT, path)
    cfg = Config.fromfile(path)
    # the model's modules are registered (this package is serankdet.models)
    with torch.device('meta'), DefaultScope.overwrite_default_scope(
            'serankdet'):
        model = MODELS.build(cfg.model)
    return {k: v.shape for k, v in model.state_dict().items()}


def convert_state_dict(name: str, reference: Dict[str, torch.Tensor],
                       config: Optional[str] = None
                       ) -> Tuple[Dict[str, torch.Tensor], List[str]]:
    """Map a reference state dict onto our model's keys.

    Returns:
        (state dict with our keys, notes on deliberately dropped keys).

    Raises:
        ConversionError: listing reference keys with no mapping, our keys left
            without a value, and shape mismatches.
    """
    if name not in CONVERTERS:
        raise ConversionError(f'unknown model "{name}"; converters exist for '
                              f'{", ".join(sorted(CONVERTERS))}')
    spec = CONVERTERS[name]
    expected = expected_shapes(spec, config)
    converted, unmapped, dropped = {}, [], {}
    for ref_key, value in reference.items():
        key = spec.map_key(ref_key)
        if key is None:
            reason = next((r for p, r in spec.dropped.items()
                           if ref_key.startswith(p)), None)
            if reason is None:
                unmapped.append(ref_key)
            else:
                dropped.setdefault(reason, []).append(ref_key)
            continue
        if key not in expected:
            unmapped.append(f'{ref_key} (-> {key}, not in our model)')
            continue
        converted[key] = value
    missing = sorted(set(expected) - set(converted))
    mismatched = [
        f'{k}: reference {tuple(v.shape)} vs ours {tuple(expected[k])}'
        for k, v in converted.items() if v.shape != expected[k]
    ]
    problems = []
    for title, items in (('reference keys without a mapping', unmapped),
                         ('model keys missing from the reference', missing),
                         ('shape mismatches', mismatched)):
        if items:
            shown = '\n  '.join(items[:50])
            more = f'\n  ... and {len(items) - 50} more' if len(items) > 50 \
                else ''
            problems.append(f'{len(items)} {title}:\n  {shown}{more}')
    if problems:
        raise ConversionError(
            f'the checkpoint is not a "{name}" checkpoint of this variant '
            f'(config {config or spec.config}):\n' + '\n'.join(problems))
    notes = [f'dropped {len(keys)} keys: {reason}'
             for reason, keys in dropped.items()]
    return converted, notes


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
                config=config or CONVERTERS[name].config)
    save_checkpoint_atomic(dict(state_dict=state_dict, meta=meta), dst)
    return notes
