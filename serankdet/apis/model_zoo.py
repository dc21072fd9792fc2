"""The trained detectors that ship with the toolbox, by name.

OpenMMLab's model index: ``model-index.yml`` at the repository root imports
one ``configs/<algorithm>/metafile.yaml`` per algorithm, and each of its
``Models`` names a config, a weights file under ``checkpoints/`` and the
file's SHA-256 (``Metadata.SHA256``). ``mim`` reads the same files.

    >>> from serankdet.apis import init_model
    >>> model = init_model('acm_sirst-5050')     # config and weights
"""
import os.path as osp
from dataclasses import dataclass, field
from typing import Dict, Optional, Tuple

from serankdet.utils.file_hash import file_sha256

#: the folder holding ``model-index.yml``, ``configs/`` and
#: ``checkpoints/`` (the repository; an editable install reads it in place)
ZOO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
MODEL_INDEX = 'model-index.yml'


class ModelZooError(ValueError):
    """A model-zoo name that is unknown, or weights that are missing or do
    not match their recorded SHA-256."""


@dataclass(frozen=True)
class ZooModel:
    """One shipped detector: its name, config and weights (absolute paths),
    the weights' SHA-256 and the scores its metafile records."""
    name: str
    config: str
    weights: str
    sha256: str
    results: Tuple[dict, ...] = field(default=())


def _read_yaml(path: str) -> dict:
    import yaml
    with open(path, encoding='utf-8') as handle:
        return yaml.safe_load(handle) or {}


def load_model_index(root: Optional[str] = None) -> Dict[str, ZooModel]:
    """Every model of ``<root>/model-index.yml`` (default :data:`ZOO_ROOT`)
    and the metafiles it imports, by name."""
    root = root or ZOO_ROOT
    index_path = osp.join(root, MODEL_INDEX)
    if not osp.isfile(index_path):
        raise ModelZooError(
            f'no {MODEL_INDEX} in {root}: model-zoo names need the '
            'repository (git clone, then pip install -e .)')
    models = {}
    for metafile in _read_yaml(index_path).get('Import', []):
        for entry in _read_yaml(osp.join(root, metafile)).get('Models', []):
            models[entry['Name']] = ZooModel(
                name=entry['Name'],
                config=osp.join(root, entry['Config']),
                weights=osp.join(root, entry['Weights']),
                sha256=entry['Metadata']['SHA256'],
                results=tuple(entry.get('Results', ())))
    return models


def find_zoo_model(name: str,
                   root: Optional[str] = None) -> Optional[ZooModel]:
    """The model called ``name``, or None when ``name`` is an existing file
    or not of the form of a name (a path: it holds a separator or a
    suffix) -- callers then treat it as a path."""
    if osp.exists(name) or osp.sep in name or name.endswith(
            ('.py', '.pth', '.pt', '.json', '.yml', '.yaml')):
        return None
    try:
        models = load_model_index(root)
    except ModelZooError as err:
        raise ModelZooError(f'"{name}" is not a file; {err}') from None
    if name not in models:
        raise ModelZooError(
            f'"{name}" is neither a file nor a model-zoo name; the shipped '
            f'models are: {", ".join(sorted(models)) or "none"}')
    return models[name]


def verified_weights(model: ZooModel) -> str:
    """``model.weights`` after checking its SHA-256 against the metafile's.

    Raises:
        ModelZooError: the file is missing or its content differs (a
            partial download, a git LFS pointer, a file replaced by hand).
    """
    if not osp.isfile(model.weights):
        raise ModelZooError(
            f'weights of {model.name} not found at {model.weights}; restore '
            'them with git (git checkout -- checkpoints/)')
    actual = file_sha256(model.weights)
    if actual != model.sha256:
        raise ModelZooError(
            f'weights of {model.name} at {model.weights} do not match their '
            f'SHA-256 (metafile {model.sha256[:12]}..., file '
            f'{actual[:12]}...): the file was changed or cut short; restore '
            'it with git (git checkout -- checkpoints/)')
    return model.weights


def resolve_model(config: str,
                  checkpoint: Optional[str] = None
                  ) -> Tuple[str, Optional[str]]:
    """Config and checkpoint paths for a tool's or ``init_model``'s
    arguments, either of which may be a model-zoo name.

    A zoo name as ``config`` gives its config, and its verified weights
    when ``checkpoint`` is None or the same name; a zoo name as
    ``checkpoint`` gives that model's verified weights. Paths pass
    unchanged.
    """
    model = find_zoo_model(config)
    if model is None:
        return config, resolve_checkpoint(checkpoint)
    if checkpoint is None or checkpoint == model.name:
        return model.config, verified_weights(model)
    return model.config, resolve_checkpoint(checkpoint)


def resolve_checkpoint(checkpoint: Optional[str]) -> Optional[str]:
    """The verified weights of a model-zoo name; a path (or None) passes
    unchanged."""
    if checkpoint is None:
        return None
    model = find_zoo_model(checkpoint)
    return checkpoint if model is None else verified_weights(model)
