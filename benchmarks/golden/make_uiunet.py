"""Golden vectors of UIU-Net from the official code.

Usage::

    git clone https://github.com/danfenghong/IEEE_TIP_UIU-Net
    python benchmarks/golden/make_uiunet.py IEEE_TIP_UIU-Net \
        [--out tests/data/golden/uiunet.pt] [--commit SHA]

Builds the official ``UIUNET(3, 1)`` (``model/uiunet.py`` and
``model/fusion.py``, imported at run time from the checkout; nothing of it is
copied here) as its ``train.py`` and ``test.py`` do. Every state-dict entry is
replaced by a value generated from its key
(``serankdet/testing/seeded_weights.py``: no weight sits at its initialisation,
BatchNorm statistics are non-trivial) and the network runs in float64 with one
thread:

- ``input`` (2, 3, 64, 40) -> ``output``: the 7 maps ``d0 .. d6`` in eval
  mode as logits (the official forward with its closing ``F.sigmoid``
  replaced by the identity); ``output_sigmoid_max_diff`` records that the
  unchanged forward returns exactly their sigmoid;
- ``train_input`` -> ``train_output`` (logits) in train mode, then
  ``bn_buffers_after_train_forward`` (every BatchNorm's running statistics
  after that one forward; IC-A's shared ``post`` BatchNorm is updated twice)
  and ``train_loss``: ``train.py``'s ``muti_bce_loss_fusion`` (``nn.BCELoss``
  on each of the 7 sigmoid maps, summed) against ``train_target``.

64 x 40 makes the ceil-mode pooling and the upsampling to odd sizes matter (40
-> 20 -> 10 -> 5 -> 3 -> 2). The 50.5 M weights are not stored, only their
``shapes`` and ``generated_checksums``
(``serankdet/testing/seeded_weights.py``).
"""
import os.path as osp
import sys
import types

import torch
import torch.nn as nn
from generator_utils import (bn_buffers, box_target, parse_args,
                             reference_commit, seeded_normal, write_golden)
from serankdet.testing.seeded_weights import (recipe, seeded_state_dict,
                                              state_checksums)

NUM_BATCHES_TRACKED = 5
INPUT_SHAPE = (2, 3, 64, 40)
OUTPUT_NAMES = [f'd{i}' for i in range(7)]


def main():
    args = parse_args(__doc__.split('\n')[0], 'uiunet.pt')
    torch.set_num_threads(1)
    sys.path.insert(0, osp.abspath(args.checkout))
    from model import uiunet as reference  # the official package

    model = reference.UIUNET(3, 1).double()
    shapes = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    state = seeded_state_dict(shapes, torch.float32, NUM_BATCHES_TRACKED)
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

    inputs = seeded_normal(101, INPUT_SHAPE)
    train_inputs = seeded_normal(201, INPUT_SHAPE)
    target = box_target((2, 1, *INPUT_SHAPE[2:]), [(0, 10, 13, 20, 24),
                                                   (0, 40, 42, 30, 31),
                                                   (1, 50, 55, 5, 9)])
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
    golden = dict(
        shapes=shapes,
        generated_checksums=state_checksums(state),
        input=inputs,
        output=outputs,
        output_sigmoid_max_diff=sigmoid_diff,
        train_input=train_inputs,
        train_output=train_outputs,
        train_target=target,
        train_loss=train_loss,
        bn_buffers_after_train_forward=bn_buffers(model),
        output_names=OUTPUT_NAMES,
        meta=dict(
            reference_repo='danfenghong/IEEE_TIP_UIU-Net',
            reference_commit=reference_commit(args),
            torch_version=str(torch.__version__),
            build='UIUNET(in_ch=3, out_ch=1)',
            params=params,
            num_keys=len(shapes),
            recipe=recipe(torch.float32, NUM_BATCHES_TRACKED),
            seeds=dict(input=101, train_input=201),
            dtype=('float64 (model.double(); weights and inputs generated '
                   'in float32), one thread'),
            outputs=('logits d0 (fused, the prediction), d1 .. d6 (side '
                     'outputs), each (2, 1, 64, 40)'),
            loss=('train.py muti_bce_loss_fusion: nn.BCELoss(size_average='
                  'True) on sigmoid(d_i) for i = 0..6, summed')))
    write_golden(golden, args.out, f'{params} parameters',
                 f'sigmoid max diff {sigmoid_diff:.3g}')


if __name__ == '__main__':
    main()
