"""Config handling and error reporting shared by tools/train.py and
tools/test.py."""
import difflib
import glob
import inspect
import os
import os.path as osp
import re
import sys
import time
from typing import Callable, Iterator, List, Optional, Tuple

import mmengine.registry as mmengine_registry
from mmengine.config import Config, DictAction
from mmengine.logging import print_log
from mmengine.registry import Registry
from mmengine.runner import Runner

import serankdet.registry as serankdet_registry
from serankdet.engine.resume import find_resume_checkpoint
from serankdet.registry import RUNNERS
from serankdet.utils import (add_launcher_args, export_local_rank,
                             patch_cpu_distributed, register_all_modules)

#: Environment variable that makes the tools show full tracebacks.
DEBUG_ENV = 'SERANKDET_DEBUG'

#: Top-level config keys the runner reads (besides base-config variables
#: such as ``data_root``, which the runner ignores).
RUNNER_KEYS = frozenset(
    [name for name in inspect.signature(Runner.__init__).parameters
     if name not in ('self', 'cfg')] +
    ['runner_type', 'model_wrapper_cfg', 'compile', 'custom_imports',
     'unsafe_resume'])
#: Usual base-config variables one edit away from a runner key.
CONFIG_VARIABLES = frozenset(
    ['train_pipeline', 'val_pipeline', 'test_pipeline', 'tta_pipeline',
     'tta_model'])


class ConfigError(ValueError):
    """A config names an unknown type or a misspelled key."""


def add_common_args(parser):
    """Arguments every entry point takes: work dir, overrides, launcher."""
    parser.add_argument('--work-dir', help='folder for logs and results')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='override config keys, e.g. train_dataloader.batch_size=2 '
        'model.backbone.base_channels=8')
    add_launcher_args(parser)


def load_config(args) -> Config:
    """Read ``args.config``, apply overrides, work dir and launcher, and
    check it (:func:`check_config`)."""
    if not osp.isfile(args.config):
        raise FileNotFoundError(
            f'config file "{args.config}" does not exist; configs live in '
            'configs/<algorithm>/')
    export_local_rank(args)
    cfg = Config.fromfile(args.config)
    merge_cfg_options(cfg, args.cfg_options)
    check_config(cfg)
    cfg.launcher = args.launcher
    if args.work_dir:
        cfg.work_dir = args.work_dir
    elif not cfg.get('work_dir'):
        stem = osp.splitext(osp.basename(args.config))[0]
        cfg.work_dir = osp.join('work_dirs', stem)
    if args.launcher != 'none':
        patch_cpu_distributed(cfg)
    return cfg


def _current_value(config: dict, key: str):
    """The value at dotted ``key`` (list items by index) of a plain config
    dict, or a sentinel when it has no such key."""
    node = config
    for part in key.split('.'):
        if isinstance(node, (list, tuple)) and part.isdigit() \
                and int(part) < len(node):
            node = node[int(part)]
        elif isinstance(node, dict) and part in node:
            node = node[part]
        else:
            return _MISSING
    return node


_MISSING = object()


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def merge_cfg_options(cfg: Config, options: Optional[dict]) -> None:
    """Merge ``--cfg-options`` into ``cfg``.

    Raises:
        ConfigError: an override gives a word where the config holds a
            number or a bool (``optimizer.lr=fast``, ``lr=1e-3x``), which
            would otherwise fail deep inside the build.
    """
    if not options:
        return
    config = cfg.to_dict()
    for key, value in options.items():
        current = _current_value(config, key)
        if current is _MISSING or current is None:
            continue
        for kind, check in (('a number', _is_number),
                            ('True or False', lambda v: isinstance(v, bool))):
            if check(current) and not check(value):
                raise ConfigError(
                    f'--cfg-options {key}={value!r}: expected {kind}, like '
                    f'the config\'s value {current!r}')
    cfg.merge_from_dict(options)


def build_runner(cfg: Config):
    """Build the config's runner (``runner_type``, default IRSTDRunner)."""
    register_all_modules()
    cfg.setdefault('runner_type', 'IRSTDRunner')
    return RUNNERS.build(cfg)


# ---------------------------------------------------------------- checks --
def _registries() -> List[Registry]:
    """Every registry a config type can live in: the toolbox's, their
    parents (mmseg, mmengine) and mmengine's other root registries."""
    found = {}
    roots = [getattr(serankdet_registry, n) for n in dir(serankdet_registry)]
    roots += [getattr(mmengine_registry, n) for n in dir(mmengine_registry)]
    for registry in roots:
        while isinstance(registry, Registry):
            found[id(registry)] = registry
            registry = registry.parent
    return list(found.values())


def registered_names() -> List[str]:
    """Names of every registered module, for suggestions."""
    register_all_modules()
    names = set()
    for registry in _registries():
        registry.import_from_location()
        names.update(registry.module_dict)
    return sorted(names)


def _is_registered(name: str) -> bool:
    return any(registry.get(name) is not None for registry in _registries())


def _suggest(word: str, candidates, n: int = 3) -> str:
    close = difflib.get_close_matches(word, list(candidates), n=n,
                                      cutoff=0.6)
    if not close:
        return ''
    names = ' or '.join(filter(None, [', '.join(close[:-1]), close[-1]]))
    return f'; did you mean {names}?'


def _typed_dicts(node, path: str = '') -> Iterator[Tuple[str, dict]]:
    """(key path, dict) of every dict with a string ``type`` in a config."""
    if isinstance(node, dict):
        if isinstance(node.get('type'), str):
            yield path, node
        for key, value in node.items():
            yield from _typed_dicts(value, f'{path}.{key}' if path else key)
    elif isinstance(node, (list, tuple)):
        for index, value in enumerate(node):
            yield from _typed_dicts(value, f'{path}[{index}]')


def check_config(cfg: Config) -> None:
    """Fail early, naming the key, on what would otherwise be silently
    ignored or fail deep inside the build.

    Raises:
        ConfigError: a ``type`` that no registry knows (with the nearest
            registered names), or a top-level key that the runner does not
            read and that is one typo away from one it reads (e.g.
            ``train_dataloder``: the misspelled setting would be ignored).
    """
    register_all_modules()
    for key in cfg.keys():
        if key in RUNNER_KEYS or key in CONFIG_VARIABLES:
            continue
        close = difflib.get_close_matches(key, RUNNER_KEYS, n=1, cutoff=0.8)
        if close:
            raise ConfigError(
                f'config key {key!r} is not used by the runner (it would be '
                f'silently ignored); did you mean {close[0]!r}?')
    names = None
    for path, node in _typed_dicts(cfg.to_dict()):
        if _is_registered(node['type']):
            continue
        names = names or registered_names()
        raise ConfigError(
            f"unknown type {node['type']!r} at {path}.type: no registry "
            f"holds it{_suggest(node['type'], names)}")


# ------------------------------------------------------------- work dirs --
def _holds_checkpoints(folder: str) -> bool:
    return (osp.isfile(osp.join(folder, 'last_checkpoint'))
            or bool(glob.glob(osp.join(folder, '*.pth'))))


def use_fresh_work_dir(cfg: Config) -> None:
    """Keep earlier runs: when ``cfg.work_dir`` already holds checkpoints,
    point it to a new ``run_<timestamp>`` folder inside it.

    With a distributed launcher the process group is started here so every
    rank uses the folder chosen by rank 0 (the Runner then reuses it).
    """
    if not _holds_checkpoints(cfg.work_dir):
        return
    name = time.strftime('run_%Y%m%d_%H%M%S')
    suffix = 1
    while osp.exists(osp.join(cfg.work_dir, name)):
        name = f'{name.split("-")[0]}-{suffix}'
        suffix += 1
    if cfg.launcher != 'none':
        from mmengine.dist import broadcast_object_list, init_dist
        init_dist(cfg.launcher, **cfg.get('env_cfg', {}).get('dist_cfg', {}))
        box = [name]
        broadcast_object_list(box)
        name = box[0]
    new_dir = osp.join(cfg.work_dir, name)
    print_log(f'{cfg.work_dir} already holds checkpoints of an earlier run; '
              f'this run writes to {new_dir} (use --resume to continue the '
              'earlier run)', logger='current')
    cfg.work_dir = new_dir


def resume_latest(cfg: Config) -> None:
    """Set ``cfg`` to resume from :func:`find_resume_checkpoint`, in the
    folder of that checkpoint; start a new run only when the work dir holds
    no checkpoint file at all (see :class:`ResumeError`)."""
    path = find_resume_checkpoint(cfg.work_dir)
    if path is None:
        print_log(f'no checkpoint to resume from in {cfg.work_dir}: '
                  'starting a new run', logger='current')
        cfg.resume = False
        return
    cfg.resume, cfg.load_from = True, path
    cfg.work_dir = osp.dirname(path)
    print_log(f'resuming from {path}', logger='current')


# ---------------------------------------------------------------- errors --
_NOT_REGISTERED = re.compile(
    r'^(?P<name>\S+) is not in the (?:\S+::)?(?P<registry>.+?) registry')
_UNEXPECTED_ARG = re.compile(
    r"(?P<cls>\w+)\.__init__\(\) got an unexpected keyword argument "
    r"'(?P<arg>\w+)'")


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
    message = str(error.args[0]) if error.args else str(error)
    if isinstance(error, KeyError):
        match = _NOT_REGISTERED.match(message)
        if not match:
            return None
        name = match['name']
        return (f'unknown type {name!r} (not in the {match["registry"]} '
                f'registry){_suggest(name, registered_names())}')
    if isinstance(error, TypeError):
        match = _UNEXPECTED_ARG.search(message)
        if not match:
            return None
        cls = next((r.get(match['cls']) for r in _registries()
                    if r.get(match['cls']) is not None), None)
        params = (inspect.signature(cls).parameters
                  if inspect.isclass(cls) else [])
        return (f'{match["cls"]} has no argument {match["arg"]!r}'
                f'{_suggest(match["arg"], params)}')
    if isinstance(error, (ValueError, FileNotFoundError, NonFiniteLossError,
                          UnsafeCheckpointError, ConversionError)):
        return _strip_worker_traceback(str(error), error)
    return None


def run_cli(main: Callable, argv=None) -> int:
    """Run a tool's ``main(argv)`` and return its exit status (what it
    returns, 0 for None); errors users cause are printed as one
    ``error: ...`` line (exit status 2) instead of a traceback, unless the
    environment sets ``SERANKDET_DEBUG=1``."""
    try:
        return main(argv) or 0
    except Exception as error:
        message = describe_error(error)
        if message is None or os.environ.get(DEBUG_ENV, '0') != '0':
            raise
        print(f'error: {message}\n(set {DEBUG_ENV}=1 to see the traceback)',
              file=sys.stderr)
        return 2
