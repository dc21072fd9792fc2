"""Reading, overriding and checking a config, and building its runner."""
import difflib
import inspect
import os
import os.path as osp
from typing import Iterator, List, Optional, Sequence, Tuple

import mmengine.registry as mmengine_registry
from mmengine.config import Config
from mmengine.registry import Registry
from mmengine.runner import Runner
from mmengine.visualization import Visualizer

import serankdet.registry as serankdet_registry
from serankdet.apis import register_all_modules
from serankdet.datasets.config_datasets import config_datasets
from serankdet.registry import RUNNERS
from serankdet.utils import describe_cpu_threads, patch_cpu_distributed
from .args import export_local_rank, prepare_distributed_process
from .errors import require_packages

#: Top-level config keys the runner reads (besides base-config variables
#: such as ``data_root``, which the runner ignores).
RUNNER_KEYS = frozenset(
    [name for name in inspect.signature(Runner.__init__).parameters
     if name not in ('self', 'cfg')] +
    ['runner_type', 'model_wrapper_cfg', 'compile', 'custom_imports',
     'unsafe_resume', 'verbose', 'sync_bn'])
#: Usual base-config variables one edit away from a runner key.
CONFIG_VARIABLES = frozenset(
    ['train_pipeline', 'val_pipeline', 'test_pipeline', 'tta_pipeline',
     'tta_model'])


class ConfigError(ValueError):
    """A config names an unknown type or a misspelled key."""


def resolve_model_args(args) -> None:
    """Model-zoo names in a tool's ``config`` / ``checkpoint`` arguments
    become the shipped config and its SHA-256-checked weights
    (:func:`serankdet.apis.model_zoo.resolve_model`)."""
    from serankdet.apis.model_zoo import resolve_model
    args.config, args.checkpoint = resolve_model(args.config,
                                                 args.checkpoint)


def load_config(args) -> Config:
    """Read ``args.config`` (a path or a model-zoo name), apply overrides,
    work dir and launcher, and check it (:func:`check_config`)."""
    from serankdet.apis.model_zoo import find_zoo_model
    zoo_model = find_zoo_model(args.config)
    if zoo_model is not None:
        args.config = zoo_model.config
    if not osp.isfile(args.config):
        raise FileNotFoundError(
            f'config file "{args.config}" does not exist; configs live in '
            'configs/<algorithm>/')
    export_local_rank(args)
    if args.launcher != 'none':
        prepare_distributed_process()
    cfg = read_config(args.config)
    merge_cfg_options(cfg, args.cfg_options)
    check_config(cfg)
    cfg.launcher = args.launcher
    cfg.verbose = getattr(args, 'verbose', False)
    if args.work_dir:
        cfg.work_dir = args.work_dir
    elif not cfg.get('work_dir'):
        stem = osp.splitext(osp.basename(args.config))[0]
        cfg.work_dir = osp.join('work_dirs', stem)
    if args.launcher != 'none':
        patch_cpu_distributed(cfg)
    return cfg


#: File types ``Config.fromfile`` reads.
CONFIG_TYPES = ('.py', '.json', '.yml', '.yaml')


def read_config(path: str) -> Config:
    """``Config.fromfile(path)``, with the errors of a file that is no
    config as :class:`ConfigError`.

    Raises:
        ConfigError: ``path`` is not a ``.py``, ``.json`` or ``.yml``
            file, has a syntax error (the message gives the file and line),
            defines nothing or sets a ``vis_backends`` the visualizer
            does not use.
    """
    if osp.splitext(path)[1] not in CONFIG_TYPES:
        raise ConfigError(f'config file "{path}": a config is a '
                          f'{"/".join(CONFIG_TYPES)} file')
    try:
        cfg = Config.fromfile(path)
    except SyntaxError as error:
        if error.lineno is None:  # mmengine's message names the file
            raise ConfigError(str(error)) from error
        raise ConfigError(
            f'config file "{_file_being_read(error, path)}", line '
            f'{error.lineno}: {error.msg}') from error
    if not cfg.keys():
        raise ConfigError(f'config file "{path}" defines nothing; a config '
                          'inherits a model, data and schedule (see '
                          'configs/README.md)')
    _check_vis_backends(cfg)
    return cfg


def read_config_with_options(path: str,
                             cfg_options: Optional[dict] = None) -> Config:
    """``path`` read (:func:`read_config`) with ``--cfg-options`` merged
    (:func:`merge_cfg_options`): the config of a tool that runs no training
    or test (no work dir, no launcher)."""
    cfg = read_config(path)
    merge_cfg_options(cfg, cfg_options)
    return cfg


def _file_being_read(error: BaseException, default: str) -> str:
    """The config file (``path`` or one of its ``_base_`` files) that
    mmengine's ``Config._file2dict`` was reading when ``error`` was raised:
    its parse errors do not name the file."""
    filename, trace = default, error.__traceback__
    while trace is not None:
        if trace.tb_frame.f_code.co_name == '_file2dict':
            filename = trace.tb_frame.f_locals.get('filename', filename)
        trace = trace.tb_next
    return filename


def use_auto_scale_lr(cfg: Config) -> None:
    """``--auto-scale-lr``: switch on mmengine's linear scaling of the
    learning rate by (processes x ``train_dataloader.batch_size``) /
    ``auto_scale_lr.base_batch_size``.

    Raises:
        ConfigError: the config states no ``base_batch_size``.
    """
    scaling = cfg.get('auto_scale_lr') or {}
    if 'base_batch_size' not in scaling:
        raise ConfigError(
            '--auto-scale-lr: the config has no auto_scale_lr.base_batch_size '
            '(the total batch its learning rate is set for); add '
            'auto_scale_lr = dict(enable=False, base_batch_size=N) to it')
    cfg.auto_scale_lr = dict(scaling, enable=True)


def use_tensorboard(cfg: Config) -> None:
    """``--tensorboard``: add mmengine's ``TensorboardVisBackend`` to the
    visualizer, which then writes the logged scalars as TensorBoard events
    in ``<work_dir>/<timestamp>/vis_data/``.

    Raises:
        MissingPackageError: the ``tensorboard`` package is not installed.
    """
    require_packages(['tensorboard'], 'pip install tensorboard',
                     '--tensorboard')
    backends = cfg.visualizer.setdefault('vis_backends', [])
    if not any(backend.get('type') == 'TensorboardVisBackend'
               for backend in backends):
        backends.append(dict(type='TensorboardVisBackend'))


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


def check_data_roots(cfg: Config, dataloaders: Sequence[str]) -> None:
    """Fail before anything is built, printed or created when a data set
    folder or split file the run will read is missing.

    Checks ``data_root``, its ``data_prefix`` folders and its ``ann_file``
    of every dataset of ``dataloaders`` (e.g. ``('train_dataloader',
    'val_dataloader')``; wrapped datasets followed,
    :func:`~serankdet.datasets.config_datasets.config_datasets`); datasets
    whose class writes its own data on first use (``CREATES_DATA_ROOT``,
    the synthetic set) are skipped.

    Raises:
        FileNotFoundError: naming the config key and the missing folder or
            file.
    """
    from serankdet.registry import DATASETS
    for dataset in config_datasets(cfg, dataloaders):
        cls = dataset.cfg.get('type')
        if isinstance(cls, str):
            cls = DATASETS.get(cls)
        if dataset.data_root is None or getattr(cls, 'CREATES_DATA_ROOT',
                                                False):
            continue
        overrides = ' '.join(
            f'{other.key}.data_root=/path/to/it'
            for other in config_datasets(cfg)
            if other.data_root == dataset.data_root)
        for key, folder in dataset.given_folders():
            if not osp.isdir(folder):
                raise FileNotFoundError(
                    f'{key}: folder {folder} does not exist (working '
                    f'directory {os.getcwd()}). Get the data set (see '
                    'datasets/README.md) or point the config at your '
                    f'copy: --cfg-options {overrides}')
        if dataset.ann_file and not osp.isfile(dataset.ann_file):
            raise FileNotFoundError(
                f'{dataset.key}.ann_file: split file {dataset.ann_file} '
                'does not exist (ann_file is relative to data_root)')


def build_runner(cfg: Config):
    """Build the config's runner (``runner_type``, default IRSTDRunner).

    A second runner in one process (a tool's ``main`` called again, as
    ``benchmarks/deploy.py`` does) gets a visualizer of its own: mmengine
    returns the existing instance of a name, whose backends still write
    into the first run's folder.
    """
    register_all_modules()
    cfg.setdefault('runner_type', 'IRSTDRunner')
    visualizer = cfg.get('visualizer')
    if isinstance(visualizer, dict) and visualizer.get('name'):
        name, number = visualizer['name'], 1
        while Visualizer.check_instance_created(visualizer['name']):
            visualizer['name'] = f'{name}_{number}'
            number += 1
    runner = RUNNERS.build(cfg)
    runner.logger.info(describe_cpu_threads())
    return runner


def registries() -> List[Registry]:
    """Every registry a config type can live in: the toolbox's (but the
    checkpoint converters, which no config builds), their parents (mmseg,
    mmengine) and mmengine's other root registries."""
    found = {}
    roots = [getattr(serankdet_registry, n) for n in dir(serankdet_registry)
             if n != 'CONVERTERS']
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
    for registry in registries():
        registry.import_from_location()
        names.update(registry.module_dict)
    return sorted(names)


def _is_registered(name: str) -> bool:
    return any(registry.get(name) is not None for registry in registries())


def suggest(word: str, candidates, n: int = 3) -> str:
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
            registered names), a top-level key that the runner does not
            read and that is one typo away from one it reads (e.g.
            ``train_dataloder``: the misspelled setting would be ignored),
            or an epoch-based training loop over an ``InfiniteSampler``
            (its first epoch would never end).
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
    _check_epochs_end(cfg)
    names = None
    for path, node in _typed_dicts(cfg.to_dict()):
        if _is_registered(node['type']):
            continue
        names = names or registered_names()
        raise ConfigError(
            f"unknown type {node['type']!r} at {path}.type: no registry "
            f"holds it{suggest(node['type'], names)}")


def _check_vis_backends(cfg: Config) -> None:
    """A child config's ``vis_backends = [...]`` changes the variable, not
    the ``visualizer.vis_backends`` its base built from it: refuse what
    would be silently ignored."""
    backends = cfg.get('vis_backends')
    visualizer = cfg.get('visualizer')
    if isinstance(visualizer, dict) and backends is not None and \
            backends != visualizer.get('vis_backends'):
        raise ConfigError(
            'vis_backends differs from visualizer.vis_backends, which the '
            'visualizer uses (a base config built it from the variable '
            'before the change); set visualizer = dict(vis_backends='
            'vis_backends) too, or train with --tensorboard')


def _check_epochs_end(cfg: Config) -> None:
    """An epoch-based loop needs a sampler that ends: ``InfiniteSampler``
    (what the iteration-based configs use) would make the first epoch run
    forever without a word."""
    loop = cfg.get('train_cfg') or {}
    sampler = (cfg.get('train_dataloader') or {}).get('sampler') or {}
    by_epoch = loop.get('type') == 'EpochBasedTrainLoop' or (
        'type' not in loop and loop.get('by_epoch', False))
    if by_epoch and sampler.get('type') == 'InfiniteSampler':
        raise ConfigError(
            'train_dataloader.sampler: InfiniteSampler never ends an epoch, '
            'and train_cfg is epoch-based; use DefaultSampler (--cfg-options '
            'train_dataloader.sampler.type=DefaultSampler) or an '
            "iteration-based train_cfg (type='IterBasedTrainLoop').")
