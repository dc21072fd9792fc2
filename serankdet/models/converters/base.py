"""Checkpoint conversion machinery shared by every model.

A converter is a :class:`BaseConverter` subclass registered in
:data:`serankdet.registry.CONVERTERS` under its ``--model`` name; it says how
reference keys map onto ours and which config defines our model.
:func:`convert_checkpoint` does the rest (safe loading, strict key and shape
checks, atomic writing) for all of them.

Configs are found without the source tree: a built wheel ships ``configs/``
as ``serankdet/.mim/configs`` (the OpenMMLab layout, see ``setup.py``); a
source checkout or an editable install reads the repository's ``configs/``.
"""
import os
import os.path as osp
import re
import tempfile
from importlib.resources import files
from typing import Callable, Dict, List, Optional, Sequence, Tuple, Union

import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope

from serankdet.registry import CONVERTERS, MODELS
from serankdet.utils.checkpoint import load_checkpoint_file

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
            the expected keys and shapes (see :func:`find_config`).
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


def expected_shapes(converter: BaseConverter,
                    config: Optional[str] = None) -> Dict[str, torch.Size]:
    """Keys and shapes of our model built from ``config`` (a path the user
    gave) or else the converter's config."""
    path = find_config(config, from_cwd=True) if config else \
        find_config(converter.config)
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
    converter = get_converter(name)
    expected = expected_shapes(converter, config)
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
            f'(config {config or converter.config}):\n' + '\n'.join(problems))
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
                config=config or get_converter(name).config)
    save_checkpoint_atomic(dict(state_dict=state_dict, meta=meta), dst)
    return notes
