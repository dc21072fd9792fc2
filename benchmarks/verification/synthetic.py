"""Initial weights and batches reproducible without the checkouts: the
official-named initial weights regenerated from a seed per key, and seeded
synthetic frames with small bright blobs and their masks."""
import hashlib
import math
import zlib
from typing import Dict, List, Sequence

import torch
from torch import nn


def weight_layout(model: nn.Module) -> List[List]:
    """``[key, kind, shape]`` of every state-dict entry of the official
    model; ``kind`` says how :func:`regenerate_weights` draws it."""
    modules = dict(model.named_modules())
    layout = []
    for key, value in model.state_dict(keep_vars=True).items():
        owner, _, attr = key.rpartition('.')
        module = modules[owner]
        if not value.is_floating_point():
            if attr != 'num_batches_tracked':
                raise ValueError(f'{key}: unexpected integer tensor')
            kind = 'zero'
        elif attr in ('running_mean', 'running_var'):
            kind = attr
        elif (attr == 'weight' and value.dim() >= 2 and isinstance(
                module, (nn.Linear, nn.modules.conv._ConvNd))):
            kind = 'fan_in'
        elif value.dim() == 1 and bool((value == 1).all()):
            kind = 'one'  # norm scales
        else:
            kind = 'small'  # biases, norm shifts, tokens, tables
        layout.append([key, kind, list(value.shape)])
    return layout


def regenerate_weights(layout: Sequence, seed: int = 0,
                       dtype=torch.float64) -> Dict[str, torch.Tensor]:
    """Official-named initial weights, each drawn from its own generator
    seeded by ``crc32(key) + seed``: ``fan_in`` N(0, 1/fan_in), ``one``
    1 + 0.1 N(0, 1), ``small`` 0.02 N(0, 1), ``running_mean`` 0.1 N(0, 1),
    ``running_var`` U(0.5, 1.5), ``zero`` integer 0."""
    state = {}
    for key, kind, shape in layout:
        rng = torch.Generator().manual_seed(
            zlib.crc32(key.encode('utf-8')) + seed)
        if kind == 'zero':
            state[key] = torch.zeros(shape, dtype=torch.int64)
            continue
        if kind == 'running_var':
            value = torch.rand(shape, generator=rng, dtype=torch.float64) + 0.5
        else:
            value = torch.randn(shape, generator=rng, dtype=torch.float64)
            if kind == 'fan_in':
                value = value / math.sqrt(math.prod(shape[1:]))
            elif kind == 'one':
                value = 1.0 + 0.1 * value
            elif kind == 'running_mean':
                value = 0.1 * value
            elif kind == 'small':
                value = 0.02 * value
            else:
                raise ValueError(f'{key}: unknown kind {kind!r}')
        state[key] = value.to(dtype)
    return state


def make_frames(count: int, size: int, seed: int = 0):
    """``count`` uint8 gray frames (size x size) of noisy background with
    1-3 small Gaussian blobs, and their masks (blob > 1/4 of its peak)."""
    rng = torch.Generator().manual_seed(seed)
    axis = torch.arange(size, dtype=torch.float64)
    yy, xx = torch.meshgrid(axis, axis, indexing='ij')
    frames, masks = [], []
    for _ in range(count):
        uniform = lambda *shape: torch.rand(  # noqa: E731
            *shape, generator=rng, dtype=torch.float64)
        img = 50.0 + 30.0 * uniform(size, size)
        mask = torch.zeros(size, size, dtype=torch.bool)
        for _ in range(1 + int(torch.randint(3, (1, ), generator=rng))):
            cy, cx = (4 + (size - 8) * uniform(2)).tolist()
            sigma = 0.8 + 1.5 * float(uniform(1))
            peak = 90.0 + 100.0 * float(uniform(1))
            blob = peak * torch.exp(-((yy - cy)**2 + (xx - cx)**2) /
                                    (2 * sigma**2))
            img += blob
            mask |= blob > 0.25 * peak
        frames.append(img.round().clamp(0, 255).to(torch.uint8))
        masks.append(mask.to(torch.uint8))
    return frames, masks


def frames_digest(frames, masks) -> str:
    digest = hashlib.sha256()
    for tensor in list(frames) + list(masks):
        digest.update(tensor.numpy().tobytes())
    return digest.hexdigest()
