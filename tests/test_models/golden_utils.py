"""What the golden tests of the ported baselines share: the golden files
(``benchmarks/golden/make_<model>.py``), the regeneration of the official
weights they were made with (``serankdet/testing/seeded_weights.py``, the
generators' own recipe) checked against their stored checksums, converted
checkpoints, our models built from a config, and the comparisons."""
import os.path as osp

import pytest
import torch
from mmengine.config import Config

from serankdet.testing.golden import (assert_checksums,  # noqa: F401
                                      build_model, load_golden,
                                      reference_state_dict)
from serankdet.apis.conversion import convert_checkpoint, convert_state_dict
from serankdet.models.converters import ConversionError
from serankdet.registry import MODELS

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG_DIR = osp.join(REPO_ROOT, 'configs')
# float64 end to end: the implementations differ only in summation order
ATOL_F64 = 1e-10


def converted_checkpoint(name: str, checkpoint: dict, folder,
                         filename: str) -> dict:
    """``checkpoint`` (as the official code saves it) written to
    ``folder/filename`` and converted as ``official2serankdet.py --model
    <name>`` does: the converted file's content and the converter's
    ``notes``."""
    src, dst = str(folder / filename), str(folder / 'converted.pth')
    torch.save(checkpoint, src)
    notes = convert_checkpoint(name, src, dst)
    return dict(torch.load(dst, weights_only=True), notes=notes)




def assert_maps_close(ours, expected, names=None, atol=ATOL_F64) -> None:
    """Our output maps equal the reference's, in the same order."""
    assert len(ours) == len(expected)
    names = names or [str(index) for index in range(len(expected))]
    for name, our_map, reference in zip(names, ours, expected):
        torch.testing.assert_close(our_map, reference, atol=atol, rtol=0,
                                   msg=lambda m: f'{name}: {m}')


def assert_buffers_match(model, reference: dict, map_key,
                         atol=ATOL_F64) -> int:
    """The model's BatchNorm buffers equal the reference's (its keys mapped
    by ``map_key``; those it maps to None, modules we do not build, are
    skipped). Returns the number compared."""
    ours = model.state_dict()
    compared = 0
    for key, value in reference.items():
        our_key = map_key(key)
        if our_key is None:
            continue
        torch.testing.assert_close(ours[our_key], value, atol=atol, rtol=0,
                                   msg=lambda m: f'{key}: {m}')
        compared += 1
    return compared


def perturbed_state(state: dict, renamed: dict = None, zeroed: dict = None,
                    removed=()) -> dict:
    """A copy of ``state`` as a checkpoint of another model or variant: the
    keys of ``renamed`` ({old: new}) renamed, those of ``zeroed`` ({key:
    shape}) set (or added) as zeros of that shape, those of ``removed``
    dropped."""
    state = dict(state)
    for old, new in (renamed or {}).items():
        state[new] = state.pop(old)
    for key, shape in (zeroed or {}).items():
        state[key] = torch.zeros(shape)
    for key in removed:
        del state[key]
    return state


def assert_conversion_fails(name: str, state_dict: dict, *parts) -> None:
    """Converting ``state_dict`` as a ``name`` checkpoint raises a
    ``ConversionError`` whose message holds every one of ``parts``."""
    with pytest.raises(ConversionError) as error:
        convert_state_dict(name, state_dict)
    message = str(error.value)
    missing = [part for part in parts if part not in message]
    assert not missing, f'{missing} not in the message:\n{message}'


def assert_input_rejected(config: str, shape, match: str) -> None:
    """The model of ``config`` refuses an input of ``shape`` in its
    forward with a ``ValueError`` matching ``match``."""
    model = MODELS.build(Config.fromfile(config).model).eval()
    with pytest.raises(ValueError, match=match):
        model(torch.rand(*shape), mode='tensor')
