"""Golden vectors of SCTransNet from the official code.

Usage::

    git clone https://github.com/xdFai/SCTransNet
    python benchmarks/golden/make_sctransnet.py SCTransNet \
        [--out tests/data/golden/sctransnet.pt] [--commit SHA]

Builds the official ``SCTransNet`` (``model/SCTransNet.py``, imported at run
time from the checkout; nothing of it is copied here) as its ``train.py`` does:
``SCTransNet(get_CTranS_config(), n_channels=1, n_classes=1, img_size=256,
deepsuper=True)``. Third-party package needed: ``einops``; ``ml_collections``
and ``thop`` are replaced by stubs when absent (the module imports them at its
top; ``ml_collections.ConfigDict`` is only used to hold the config values).
Every state-dict entry is replaced by a value generated from its key
(``serankdet/testing/seeded_weights.py``: no weight sits at its initialisation,
BatchNorm and LayerNorm parameters and BatchNorm statistics are non-trivial)
and the network runs in float64 with one thread:

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
patches down to 1/16 of the input). The 11.3 M weights are not stored, only
their ``shapes`` and ``generated_checksums``
(``serankdet/testing/seeded_weights.py``).
"""
import contextlib
import copy
import sys
import types

import torch
import torch.nn as nn
from generator_utils import (bn_buffers, box_target, load_module, parse_args,
                             reference_commit, seeded_normal, write_golden)
from serankdet.testing.seeded_weights import (recipe, seeded_state_dict,
                                              state_checksums)

NUM_BATCHES_TRACKED = 5
INPUT_SHAPE = (2, 1, 48, 64)
OUTPUT_NAMES = ['gt5', 'gt4', 'gt3', 'gt2', 'd0', 'out']
REFERENCE_COMMIT = 'e0276283794e9a54db334c2105f6e70107312202'


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
        module = load_module(checkout, 'model/SCTransNet.py',
                             'ref_sctransnet')
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


def main():
    args = parse_args(__doc__.split('\n')[0], 'sctransnet.pt')
    torch.set_num_threads(1)
    ref = load_reference(args.checkout)
    model = ref.SCTransNet(ref.get_CTranS_config(), n_channels=1,
                           n_classes=1, img_size=256, mode='train',
                           deepsuper=True)
    shapes = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    state = seeded_state_dict(shapes, torch.float32, NUM_BATCHES_TRACKED)
    model.load_state_dict(state)
    params = sum(p.numel() for p in model.parameters())

    inputs = seeded_normal(103, INPUT_SHAPE)
    train_inputs = seeded_normal(203, INPUT_SHAPE)
    target = box_target((INPUT_SHAPE[0], 1, *INPUT_SHAPE[2:]),
                        [(0, 10, 13, 20, 24), (0, 30, 32, 50, 51),
                         (1, 20, 25, 5, 9)])

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
    golden = dict(
        shapes=shapes,
        generated_checksums=state_checksums(state),
        input=inputs,
        output=[o.clone() for o in outputs],
        output_test_mode=output_test_mode.clone(),
        output_f32=output_f32.clone(),
        train_input=train_inputs,
        train_output=[o.clone() for o in train_outputs],
        train_target=target,
        train_loss=train_loss,
        bn_buffers_after_train_forward=bn_buffers(model),
        output_names=OUTPUT_NAMES,
        meta=dict(
            reference_repo='xdFai/SCTransNet',
            reference_commit=reference_commit(args, REFERENCE_COMMIT),
            torch_version=str(torch.__version__),
            build=('SCTransNet(get_CTranS_config(), n_channels=1, '
                   'n_classes=1, img_size=256, mode="train", '
                   'deepsuper=True)'),
            params=params,
            recipe=recipe(torch.float32, NUM_BATCHES_TRACKED),
            seeds=dict(input=103, train_input=203),
            dtype=('float64 (model.double(); weights and inputs generated '
                   'in float32); output_f32 in float32, one thread'),
            train_sigmoid_max_diff=sigmoid_diff,
            loss=('nn.BCELoss on each of the 6 sigmoid train outputs, '
                  'summed (train.py Net.loss for a tuple)')))
    write_golden(golden, args.out, f'{params} parameters',
                 f'sigmoid check {sigmoid_diff:.2e}')


if __name__ == '__main__':
    main()
