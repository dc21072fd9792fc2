"""The golden files of the model tests (``tests/data/golden``, made by
``benchmarks/golden/make_<model>.py``; ``../shared/golden``) and the
official weights their outputs were computed with, rebuilt from their
recipes and checked against their stored checksums; our models built from
a config with those weights. Used by the model tests and by
``benchmarks/gpu_check.py``."""
import math
import os
import os.path as osp
import zlib

import torch
from mmengine.config import Config

from serankdet.models.converters.serankdet import map_serankdet_key
from serankdet.registry import MODELS
from .seeded_weights import seeded_state_dict, state_checksums

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
GOLDEN_DIR = osp.join(REPO_ROOT, 'tests', 'data', 'golden')
#: the reference material beside the checkout (``SERANKDET_SHARED``)
SHARED_DIR = os.environ.get('SERANKDET_SHARED',
                            osp.join(REPO_ROOT, '..', 'shared'))
SERANKDET_MODEL_CONFIG = osp.join(REPO_ROOT, 'configs', '_base_', 'models',
                                  'serankdet.py')


def load_golden(name: str) -> dict:
    """``tests/data/golden/<name>.pt``."""
    return torch.load(osp.join(GOLDEN_DIR, f'{name}.pt'), weights_only=True,
                      map_location='cpu')


def load_shared_golden(filename: str) -> dict:
    """``<SHARED_DIR>/golden/<filename>`` (datransnet.pt, samspl.pt,
    serankdet_compact.pt)."""
    return torch.load(osp.join(SHARED_DIR, 'golden', filename),
                      weights_only=True, map_location='cpu')


def assert_checksums(state: dict, stored: dict) -> None:
    """Every floating entry of ``state`` has the (sum, sum of |x|) the
    golden file stored for it: the weights are those its outputs were
    computed with."""
    ours = state_checksums(state)
    assert ours.keys() == stored.keys()
    for key, (total, abs_total) in stored.items():
        assert math.isclose(ours[key][0], total, rel_tol=0,
                            abs_tol=1e-12 * abs_total), key
        assert math.isclose(ours[key][1], abs_total, rel_tol=1e-12), key


def reference_state_dict(golden: dict, dtype=torch.float64,
                         num_batches_tracked: int = 0) -> dict:
    """The official-named state dict the golden outputs were computed with
    (``golden['shapes']``), checked against ``golden['generated_checksums']``.
    """
    state = seeded_state_dict(golden['shapes'], dtype, num_batches_tracked)
    assert_checksums(state, golden['generated_checksums'])
    return state


def serankdet_reference_state_dict(golden: dict) -> dict:
    """Official-format state dict of the SeRankDet golden network
    (``serankdet_compact.pt``): the stored tensors, and every conv and
    linear weight regenerated as ``golden['meta']['recipe']`` says, checked
    against ``golden['generated_checksums']``."""
    with torch.device('meta'):
        shapes = {k: v.shape for k, v in MODELS.build(Config.fromfile(
            SERANKDET_MODEL_CONFIG).model).state_dict().items()}
    state = dict(golden['stored_state_dict'])
    for key, (total, abs_total) in golden['generated_checksums'].items():
        shape = shapes[map_serankdet_key(key)]
        rng = torch.Generator().manual_seed(zlib.crc32(key.encode('utf-8')))
        value = torch.randn(*shape, generator=rng, dtype=torch.float32)
        value = (value / math.sqrt(math.prod(shape[1:])) if len(shape) >= 2
                 else value * 0.02)
        assert math.isclose(value.double().sum().item(), total,
                            abs_tol=1e-9 * abs_total + 1e-12), key
        assert math.isclose(value.double().abs().sum().item(), abs_total,
                            rel_tol=1e-12), key
        state[key] = value
    return state


def build_model(config: str, state_dict: dict = None, dtype=torch.float32):
    """Our model of ``config`` in ``dtype``, with ``state_dict`` loaded
    strictly (after the cast: loading float64 weights into float32
    parameters would round them)."""
    model = MODELS.build(Config.fromfile(config).model).to(dtype)
    if state_dict is not None:
        model.load_state_dict(state_dict, strict=True)
    return model
