"""Golden vectors of UIU-Net from the official code.

Usage::

    git clone https://github.com/danfenghong/IEEE_TIP_UIU-Net
    python benchmarks/golden/make_uiunet.py IEEE_TIP_UIU-Net \
        [--out tests/data/golden/uiunet.pt] [--commit SHA]

Builds the official ``UIUNET(3, 1)`` (``model/uiunet.py`` and
``model/fusion.py``, imported at run time from the checkout; nothing of it is
copied here) as its ``train.py`` and ``test.py`` do. Every state-dict entry
is replaced by a value generated from its key (:func:`golden_value`: no
weight sits at its initialisation, BatchNorm statistics are non-trivial) and
the network runs in float64 with one thread:

- ``input`` (2, 3, 64, 40) -> ``output``: the 7 maps ``d0 .. d6`` in eval
  mode as logits (the official forward with its closing ``F.sigmoid``
  replaced by the identity); ``output_sigmoid_max_diff`` records that the
  unchanged forward returns exactly their sigmoid;
- ``train_input`` -> ``train_output`` (logits) in train mode, then
  ``bn_buffers_after_train_forward`` (every BatchNorm's running statistics
  after that one forward; IC-A's shared ``post`` BatchNorm is updated twice)
  and ``train_loss``: ``train.py``'s ``muti_bce_loss_fusion`` (``nn.BCELoss``
  on each of the 7 sigmoid maps, summed) against ``train_target``.

64 x 40 makes the ceil-mode pooling and the upsampling to odd sizes matter
(40 -> 20 -> 10 -> 5 -> 3 -> 2). The weights (50.5 M parameters) are not
stored: ``generated_checksums[key]`` = (sum, abs-sum) in float64 lets a test
check its regeneration, and ``shapes[key]`` lists every key. Inputs are
float32 values (stored as float32, exact in float64).
"""
import argparse
import os.path as osp
import subprocess
import sys
import types
import zlib

import torch
import torch.nn as nn

DEFAULT_OUT = osp.join(
    osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))), 'tests',
    'data', 'golden', 'uiunet.pt')
RECIPE = (
    'Every floating state_dict entry is generated from its reference key '
    'with g = torch.Generator().manual_seed(zlib.crc32(key.encode())) as a '
    'float32 tensor: ndim >= 2 (conv weights): randn(shape) / sqrt('
    'prod(shape[1:])); "running_var": 0.5 + rand(shape); other keys ending '
    'in "weight" (BatchNorm): 1 + 0.2 * randn(shape); all other floating '
    'keys (biases, running_mean): 0.1 * randn(shape). num_batches_tracked '
    'is 5. The model then runs in float64 (exact copies of these values).')
NUM_BATCHES_TRACKED = 5
INPUT_SHAPE = (2, 3, 64, 40)
OUTPUT_NAMES = [f'd{i}' for i in range(7)]


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


def commit_of(checkout: str) -> str:
    try:
        return subprocess.run(
            ['git', '-C', checkout, 'rev-parse', 'HEAD'], check=True,
            capture_output=True, text=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return 'unknown (not a git checkout)'


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('checkout', help='official repository checkout')
    parser.add_argument('--out', default=DEFAULT_OUT)
    parser.add_argument('--commit', default=None,
                        help='commit to record when the checkout has no .git')
    args = parser.parse_args()
    torch.set_num_threads(1)
    sys.path.insert(0, osp.abspath(args.checkout))
    from model import uiunet as reference  # the official package

    model = reference.UIUNET(3, 1).double()
    state = model.state_dict()
    checksums, shapes = {}, {}
    for key, value in state.items():
        shapes[key] = tuple(value.shape)
        if value.is_floating_point():
            generated = golden_value(key, value.shape)
            value.copy_(generated)
            checksums[key] = (generated.double().sum().item(),
                              generated.double().abs().sum().item())
        else:
            value.fill_(NUM_BATCHES_TRACKED)
    model.load_state_dict(state)
    params = sum(p.numel() for p in model.parameters())

    # the official forward returns sigmoid(d0 .. d6); with F.sigmoid as the
    # identity in its module it returns the logits (F.upsample etc. unchanged)
    functional = reference.F
    logits_namespace = types.SimpleNamespace(**vars(functional))
    logits_namespace.sigmoid = lambda x: x

    def run(inputs):
        reference.F = logits_namespace
        try:
            return [o.clone() for o in model(inputs.double())]
        finally:
            reference.F = functional

    inputs = torch.randn(INPUT_SHAPE, generator=torch.Generator()
                         .manual_seed(101))
    train_inputs = torch.randn(INPUT_SHAPE, generator=torch.Generator()
                               .manual_seed(201))
    # a few small targets, as in IRSTD masks
    target = torch.zeros(2, 1, *INPUT_SHAPE[2:], dtype=torch.float64)
    target[0, 0, 10:13, 20:24] = 1
    target[0, 0, 40:42, 30:31] = 1
    target[1, 0, 50:55, 5:9] = 1
    bce_loss = nn.BCELoss(reduction='mean')  # train.py: size_average=True
    with torch.no_grad():
        model.eval()
        outputs = run(inputs)
        probabilities = model(inputs.double())
        sigmoid_diff = max((p - o.sigmoid()).abs().max().item()
                           for p, o in zip(probabilities, outputs))
        model.train()
        train_outputs = run(train_inputs)
        train_loss = sum(bce_loss(o.sigmoid(), target)
                         for o in train_outputs)
    buffers = {k: v.clone() for k, v in model.state_dict().items()
               if k.endswith(('running_mean', 'running_var',
                              'num_batches_tracked'))}
    golden = dict(
        shapes=shapes,
        generated_checksums=checksums,
        input=inputs,
        output=outputs,
        output_sigmoid_max_diff=sigmoid_diff,
        train_input=train_inputs,
        train_output=train_outputs,
        train_target=target,
        train_loss=train_loss,
        bn_buffers_after_train_forward=buffers,
        output_names=OUTPUT_NAMES,
        meta=dict(
            reference_repo='danfenghong/IEEE_TIP_UIU-Net',
            reference_commit=args.commit or commit_of(args.checkout),
            torch_version=str(torch.__version__),
            build='UIUNET(in_ch=3, out_ch=1)',
            params=params,
            num_keys=len(shapes),
            recipe=RECIPE,
            seeds=dict(input=101, train_input=201),
            dtype=('float64 (model.double(); weights and inputs generated '
                   'in float32), one thread'),
            outputs=('logits d0 (fused, the prediction), d1 .. d6 (side '
                     'outputs), each (2, 1, 64, 40)'),
            loss=('train.py muti_bce_loss_fusion: nn.BCELoss(size_average='
                  'True) on sigmoid(d_i) for i = 0..6, summed')))
    torch.save(golden, args.out)
    print(f'wrote {args.out}: {params} parameters, {len(shapes)} keys, '
          f'commit {golden["meta"]["reference_commit"]}, sigmoid max diff '
          f'{sigmoid_diff:.3g}')


if __name__ == '__main__':
    main()
