"""The weights of the golden vectors, generated from a seed per key.

The golden files of the official networks (``tests/data/golden/*.pt``) do
not store their weights: the generators (``benchmarks/golden/make_*.py``)
fill the official network's state dict from the functions below and store
its ``shapes`` ({key: shape}) and :func:`state_checksums`
(``generated_checksums``); the tests regenerate the same tensors from the
stored keys and check them against those checksums. Both sides import this
module, so the recipe exists once.
"""
import math
import zlib

import torch


def key_generator(key: str) -> torch.Generator:
    """A generator seeded with ``zlib.crc32`` of the state-dict key."""
    return torch.Generator().manual_seed(zlib.crc32(key.encode('utf-8')))


def seeded_value(key: str, shape, dtype=torch.float64) -> torch.Tensor:
    """The value of the floating entry ``key`` of ``shape`` (see
    :func:`recipe`): no weight at its initialisation, BatchNorm statistics
    far from 0 and 1."""
    rng = key_generator(key)
    shape = tuple(shape)
    if len(shape) >= 2:
        return torch.randn(shape, generator=rng, dtype=dtype) / \
            math.sqrt(math.prod(shape[1:]))
    if key.endswith('running_var'):
        return 0.5 + torch.rand(shape, generator=rng, dtype=dtype)
    if key.endswith('weight'):
        return 1 + 0.2 * torch.randn(shape, generator=rng, dtype=dtype)
    return 0.1 * torch.randn(shape, generator=rng, dtype=dtype)


def seeded_state_dict(shapes: dict, dtype=torch.float64,
                      num_batches_tracked: int = 0) -> dict:
    """A state dict with the keys and shapes of ``shapes`` ({key: shape}):
    every ``num_batches_tracked`` entry the given count, every other entry
    :func:`seeded_value` in ``dtype``."""
    return {
        key: torch.tensor(num_batches_tracked)
        if key.endswith('num_batches_tracked') else
        seeded_value(key, shape, dtype)
        for key, shape in shapes.items()
    }


def recipe(dtype=torch.float64, num_batches_tracked: int = 0) -> str:
    """:func:`seeded_state_dict` in words (stored in the golden files)."""
    return (
        'Every floating state_dict entry is generated from its key (the '
        'official network\'s own name) with g = torch.Generator().manual_'
        f'seed(zlib.crc32(key.encode())) as a {dtype} tensor: ndim >= 2 '
        '(conv and linear weights): randn(shape) / sqrt(prod(shape[1:])); '
        '"running_var": 0.5 + rand(shape); other keys ending in "weight" '
        '(BatchNorm, LayerNorm): 1 + 0.2 * randn(shape); all other floating '
        'keys (biases, running_mean, embeddings): 0.1 * randn(shape). '
        f'num_batches_tracked is {num_batches_tracked}.')


def mshnet_seeded_state_dict(shapes: dict) -> dict:
    """The golden weights of MSHNet (the variant ``mshnet.pt`` was made
    with): every entry of a state dict with reference keys and ``shapes``
    ({key: shape}) from a generator seeded with ``zlib.crc32(key)``,
    float64: ``num_batches_tracked`` = 7; ``running_var`` = 0.5 + U[0, 1);
    ``running_mean`` = 0.2 N(0, 1); other 1-D ``weight`` (BatchNorm) = 1 +
    0.2 N; 1-D ``bias`` = 0.1 N; tensors of 2 or more dimensions (conv
    weights) = N / sqrt(prod(shape[1:])). N is drawn first for every key
    (``running_var`` draws U after it)."""
    state = {}
    for key, shape in shapes.items():
        shape = tuple(shape)
        name = key.rsplit('.', 1)[-1]
        rng = key_generator(key)
        normal = torch.randn(shape, generator=rng, dtype=torch.float64)
        if name == 'num_batches_tracked':
            state[key] = torch.tensor(7)
        elif name == 'running_var':
            state[key] = 0.5 + torch.rand(shape, generator=rng,
                                          dtype=torch.float64)
        elif name == 'running_mean':
            state[key] = 0.2 * normal
        elif len(shape) >= 2:
            state[key] = normal / math.sqrt(math.prod(shape[1:]))
        elif name == 'weight':
            state[key] = 1 + 0.2 * normal
        else:
            state[key] = 0.1 * normal
    return state


def state_checksums(state: dict) -> dict:
    """(sum, sum of |x|) in float64 of every floating entry of ``state``."""
    return {
        key: (value.double().sum().item(), value.double().abs().sum().item())
        for key, value in state.items() if value.is_floating_point()
    }
