"""Golden vectors of SCTransNet from the official code.

Usage::

    git clone https://github.com/xdFai/SCTransNet
    python benchmarks/golden/make_sctransnet.py SCTransNet \
        [--out tests/data/golden/sctransnet.pt] [--commit SHA]

Builds the official ``SCTransNet`` (``model/SCTransNet.py``, imported at run
time from the checkout; nothing of it is copied here) as its ``train.py``
does: ``SCTransNet(get_CTranS_config(), n_channels=1, n_classes=1,
img_size=256, deepsuper=True)``. Third-party package needed: ``einops``;
``ml_collections`` and ``thop`` are replaced by stubs when absent (the
module imports them at its top; ``ml_collections.ConfigDict`` is only used
to hold the config values). Every state-dict entry is replaced by a value
generated from its key (:func:`golden_value`: no weight sits at its
initialisation, BatchNorm and LayerNorm parameters and BatchNorm statistics
are non-trivial) and the network runs in float64 with one thread:

- ``input`` (2, 1, 48, 64) -> ``output``: the 6 maps of the deep-supervised
  forward in eval mode as logits, in the reference's order ``gt5, gt4, gt3,
  gt2, d0, out`` (``out`` is what the reference tests and scores), computed
  with the ``torch.sigmoid`` calls of ``SCTransNet.forward`` (not those of
  the decoder's channel gate) replaced by the identity;
  ``output_test_mode`` is the unchanged forward of the ``mode='test'``
  network (``sigmoid(out)``), and ``output_f32`` the ``out`` logits of the
  same weights in float32 (one thread);
- ``train_input`` -> ``train_output`` (logits, same order) in train mode,
  then ``bn_buffers_after_train_forward`` (every BatchNorm's running
  statistics after that forward) and ``train_loss``: ``train.py``'s
  ``Net.loss`` for a tuple of predictions (``nn.BCELoss`` on each of the 6
  sigmoid maps, summed) against ``train_target``.

48 x 64 gives a 3 x 4 token grid (the transformer cuts every skip level into
patches down to 1/16 of the input). The weights (11.3 M parameters) are not
stored: ``generated_checksums[key]`` = (sum, abs-sum) in float64 lets a test
check its regeneration, and ``shapes[key]`` lists every key. Inputs are
float32 values (stored as float32, exact in float64).
"""
import argparse
import contextlib
import copy
import importlib.util
import os.path as osp
import subprocess
import sys
import types
import zlib

import torch
import torch.nn as nn

DEFAULT_OUT = osp.join(
    osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))), 'tests',
    'data', 'golden', 'sctransnet.pt')
RECIPE = (
    'Every floating state_dict entry is generated from its reference key '
    'with g = torch.Generator().manual_seed(zlib.crc32(key.encode())) as a '
    'float32 tensor: ndim >= 2 (conv and linear weights): randn(shape) / '
    'sqrt(prod(shape[1:])); "running_var": 0.5 + rand(shape); other keys '
    'ending in "weight" (BatchNorm, LayerNorm): 1 + 0.2 * randn(shape); all '
    'other floating keys (biases, running_mean, position embeddings, the '
    'unused attention scalars): 0.1 * randn(shape). num_batches_tracked is '
    '5. The model then runs in float64 (exact copies of these values).')
NUM_BATCHES_TRACKED = 5
INPUT_SHAPE = (2, 1, 48, 64)
OUTPUT_NAMES = ['gt5', 'gt4', 'gt3', 'gt2', 'd0', 'out']
REFERENCE_COMMIT = 'e0276283794e9a54db334c2105f6e70107312202'


def golden_value(key: str, shape) -> torch.Tensor:
    """The generated float32 value of the floating state-dict entry ``key``
    (see ``RECIPE``)."""
    rng = torch.Generator().manual_seed(zlib.crc32(key.encode('utf-8')))
    shape = tuple(shape)
    if len(shape) >= 2:
        fan_in = torch.tensor(shape[1:]).prod().item()
        return torch.randn(shape, generator=rng) / fan_in**0.5
    if key.endswith('running_var'):
        return 0.5 + torch.rand(shape, generator=rng)
    if key.endswith('weight'):
        return 1 + 0.2 * torch.randn(shape, generator=rng)
    return 0.1 * torch.randn(shape, generator=rng)


def stub_module(name: str, **attrs) -> types.ModuleType:
    module = types.ModuleType(name)
    module.__dict__.update(attrs)
    return module


class ConfigDict(dict):
    """Stand-in for ``ml_collections.ConfigDict``: a dict whose items are
    also attributes (all the reference's config needs)."""
    __getattr__ = dict.__getitem__
    __setattr__ = dict.__setitem__


def load_reference(checkout: str) -> types.ModuleType:
    """``model/SCTransNet.py`` of the checkout, with stubs for the packages
    it imports but the network does not use, if they are missing."""
    stubs = {}
    for name, attrs in (('ml_collections', dict(ConfigDict=ConfigDict)),
                        ('thop', dict(profile=None))):
        try:
            __import__(name)
        except ImportError:
            stubs[name] = stub_module(name, **attrs)
    saved = {name: sys.modules.get(name) for name in stubs}
    sys.modules.update(stubs)
    try:
        path = osp.join(checkout, 'model', 'SCTransNet.py')
        spec = importlib.util.spec_from_file_location('ref_sctransnet', path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        for name, previous in saved.items():
            if previous is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = previous
    return module


@contextlib.contextmanager
def closing_sigmoid_as_identity(module: types.ModuleType):
    """Make the ``torch.sigmoid`` calls of ``SCTransNet.forward`` itself
    (its outputs) the identity, so the forward returns logits; the other
    calls (the decoder's channel gate) and everything else stay the real
    torch."""

    def sigmoid(x):
        caller = sys._getframe(1).f_locals.get('self')
        return x if isinstance(caller, module.SCTransNet) else \
            torch.sigmoid(x)

    proxy = types.SimpleNamespace(**{
        name: getattr(torch, name) for name in dir(torch)
        if not name.startswith('__')
    })
    proxy.sigmoid = sigmoid
    real = module.torch
    module.torch = proxy
    try:
        yield
    finally:
        module.torch = real


def commit_of(checkout: str) -> str:
    try:
        return subprocess.run(
            ['git', '-C', checkout, 'rev-parse', 'HEAD'], check=True,
            capture_output=True, text=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return REFERENCE_COMMIT + ' (not a git checkout; the studied one)'


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('checkout', help='official repository checkout')
    parser.add_argument('--out', default=DEFAULT_OUT)
    parser.add_argument('--commit', default=None,
                        help='commit to record when the checkout has no .git')
    args = parser.parse_args()
    torch.set_num_threads(1)
    ref = load_reference(args.checkout)
    model = ref.SCTransNet(ref.get_CTranS_config(), n_channels=1,
                           n_classes=1, img_size=256, mode='train',
                           deepsuper=True)
    state = model.state_dict()
    checksums, shapes = {}, {}
    for key, value in state.items():
        shapes[key] = tuple(value.shape)
        if value.is_floating_point():
            value.copy_(golden_value(key, value.shape))
            checksums[key] = (value.double().sum().item(),
                              value.double().abs().sum().item())
        elif key.endswith('num_batches_tracked'):
            value.fill_(NUM_BATCHES_TRACKED)
    model.load_state_dict(state)
    params = sum(p.numel() for p in model.parameters())

    inputs = torch.randn(INPUT_SHAPE,
                         generator=torch.Generator().manual_seed(103))
    train_inputs = torch.randn(INPUT_SHAPE,
                               generator=torch.Generator().manual_seed(203))
    # a few small targets, as in IRSTD masks
    target = torch.zeros(INPUT_SHAPE[0], 1, *INPUT_SHAPE[2:],
                         dtype=torch.float64)
    target[0, 0, 10:13, 20:24] = 1
    target[0, 0, 30:32, 50:51] = 1
    target[1, 0, 20:25, 5:9] = 1

    with torch.no_grad():
        model.eval()
        with closing_sigmoid_as_identity(ref):
            output_f32 = model(inputs)[-1]
        model.double()
        with closing_sigmoid_as_identity(ref):
            outputs = model(inputs.double())
        tester = copy.deepcopy(model)
        tester.mode = 'test'
        output_test_mode = tester(inputs.double())
        # the train forward updates the BatchNorm statistics: the unchanged
        # (sigmoid) forward for the loss runs on a copy
        model.train()
        sigmoid_model = copy.deepcopy(model)
        with closing_sigmoid_as_identity(ref):
            train_outputs = model(train_inputs.double())
        probabilities = sigmoid_model(train_inputs.double())
        bce = nn.BCELoss(reduction='mean')  # train.py: size_average=True
        train_loss = sum(bce(p, target) for p in probabilities)
    sigmoid_diff = max(
        (torch.sigmoid(logits) - prob).abs().max().item()
        for logits, prob in zip(train_outputs, probabilities))
    buffers = {k: v.clone() for k, v in model.state_dict().items()
               if k.endswith(('running_mean', 'running_var',
                              'num_batches_tracked'))}
    golden = dict(
        shapes=shapes,
        generated_checksums=checksums,
        input=inputs,
        output=[o.clone() for o in outputs],
        output_test_mode=output_test_mode.clone(),
        output_f32=output_f32.clone(),
        train_input=train_inputs,
        train_output=[o.clone() for o in train_outputs],
        train_target=target,
        train_loss=train_loss,
        bn_buffers_after_train_forward=buffers,
        output_names=OUTPUT_NAMES,
        meta=dict(
            reference_repo='xdFai/SCTransNet',
            reference_commit=args.commit or commit_of(args.checkout),
            torch_version=str(torch.__version__),
            build=('SCTransNet(get_CTranS_config(), n_channels=1, '
                   'n_classes=1, img_size=256, mode="train", '
                   'deepsuper=True)'),
            params=params,
            recipe=RECIPE,
            seeds=dict(input=103, train_input=203),
            dtype=('float64 (model.double(); weights and inputs generated '
                   'in float32); output_f32 in float32, one thread'),
            train_sigmoid_max_diff=sigmoid_diff,
            loss=('nn.BCELoss on each of the 6 sigmoid train outputs, '
                  'summed (train.py Net.loss for a tuple)')))
    torch.save(golden, args.out)
    print(f'wrote {args.out}: {params} parameters, {len(shapes)} keys, '
          f'commit {golden["meta"]["reference_commit"]}, sigmoid check '
          f'{sigmoid_diff:.2e}')


if __name__ == '__main__':
    main()
