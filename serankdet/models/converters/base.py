"""Checkpoint conversion machinery shared by every model.

A converter is a :class:`BaseConverter` subclass registered in
:data:`serankdet.registry.CONVERTERS` under its ``--model`` name; it says how
reference keys map onto ours and which config defines our model.
:func:`map_state_dict` maps a state dict with strict key and shape checks.
No file is read or written here: reading configs and checkpoints and writing
the converted one is :mod:`serankdet.apis.conversion`'s.
"""
import re
from typing import Callable, Dict, List, Optional, Sequence, Tuple, Union

import torch

from serankdet.registry import CONVERTERS

KeyMap = Callable[[str], Optional[str]]
Rules = Sequence[Tuple[str, Union[str, Callable]]]


class ConversionError(RuntimeError):
    """The reference checkpoint does not map onto our model."""


class BaseConverter:
    """How to convert one reference model's checkpoint.

    Subclasses are registered with
    ``@CONVERTERS.register_module(name=<--model name>)`` and set:

    Attributes:
        config (str): ``configs/...`` path of the config whose model defines
            the expected keys and shapes (see
            :func:`serankdet.apis.conversion.find_config`).
        dropped (dict): reference key prefix -> reason the key is dropped.

    and implement :meth:`map_key`.
    """
    config: str = ''
    dropped: Dict[str, str] = {}

    def map_key(self, key: str) -> Optional[str]:
        """Reference key -> our key, or None for a key that is deliberately
        dropped (it must then match ``dropped``)."""
        raise NotImplementedError


class RuleConverter(BaseConverter):
    """A converter whose :meth:`map_key` is :func:`rule_key_map` of the class
    attributes ``rules`` and ``strip_prefixes``."""
    rules: Rules = ()
    strip_prefixes: Sequence[str] = ()

    def __init__(self):
        self._map_key = rule_key_map(self.rules, self.strip_prefixes)

    def map_key(self, key: str) -> Optional[str]:
        return self._map_key(key)


def converter_names() -> List[str]:
    """``--model`` names of every registered converter, sorted."""
    CONVERTERS.import_from_location()
    return sorted(CONVERTERS.module_dict)


def get_converter(name: str) -> BaseConverter:
    """The converter registered as ``name``."""
    CONVERTERS.import_from_location()
    # module_dict, not CONVERTERS.get: get also resolves dotted import paths
    converter = CONVERTERS.module_dict.get(name)
    if converter is None:
        raise ConversionError(f'unknown model "{name}"; converters exist for '
                              f'{", ".join(converter_names())}')
    return converter()


def rule_key_map(rules: Rules,
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


def renumber(template: str, group: int = 1,
             offset: int = 1) -> Callable[[re.Match], str]:
    """Rule target for a module the reference numbers from ``offset`` (1 in
    most) and we index from 0: the ``re`` template ``template`` (``\\1``...)
    with ``{}`` replaced by the number in ``group`` minus ``offset``."""
    return lambda match: match.expand(
        template.format(int(match[group]) - offset))


def res_cbam_key(rest: str) -> str:
    """A Res-CBAM block's key below the block (DNANet, MSHNet): the same
    names as our :class:`ResidualBlock` but for the spatial gate's conv,
    ``sa.conv1`` there and ``sa.conv`` here."""
    return re.sub(r'^sa\.conv1\.', 'sa.conv.', rest)


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


def map_state_dict(converter: BaseConverter, name: str,
                   reference: Dict[str, torch.Tensor],
                   expected: Dict[str, torch.Size], config: str
                   ) -> Tuple[Dict[str, torch.Tensor], List[str]]:
    """Map a reference state dict onto the keys and shapes ``expected`` of
    our model (built from ``config``, named in the errors), with the
    ``converter`` registered as ``name``.

    Returns:
        (state dict with our keys, notes on deliberately dropped keys).

    Raises:
        ConversionError: listing reference keys with no mapping, our keys left
            without a value, and shape mismatches.
    """
    converted, unmapped, dropped = {}, [], {}
    for ref_key, value in reference.items():
        key = converter.map_key(ref_key)
        if key is None:
            reason = next((r for p, r in converter.dropped.items()
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
            f'(config {config}):\n' + '\n'.join(problems))
    notes = [f'dropped {len(keys)} keys: {reason}'
             for reason, keys in dropped.items()]
    return converted, notes
