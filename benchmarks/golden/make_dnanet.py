"""Golden vectors of DNANet from the official code.

Usage::

    git clone https://github.com/YeRen123455/Infrared-Small-Target-Detection
    python benchmarks/golden/make_dnanet.py Infrared-Small-Target-Detection \
        [--out tests/data/golden/dnanet.pt]

Builds the official ``DNANet`` (``model/model_DNANet.py``, imported at run time
from the checkout; nothing of it is copied here) as its ``train.py`` does by
default: ``Res_CBAM_block``, ``num_blocks=[2, 2, 2, 2]``, ``nb_filter=[16, 32,
64, 128, 256]``, 3 input channels, deep supervision. Every state-dict entry is
replaced by a value generated from its key
(``serankdet/testing/seeded_weights.py``, so that no weight sits at its
initialisation and BatchNorm statistics are non-trivial) and the network runs
in float64:

- ``input`` (2, 3, 64, 64) -> ``output``: the 4 logit maps in eval mode,
  in the reference's order (``final1``..``final4``; ``final4`` is the
  prediction);
- ``train_input`` -> ``train_output`` in train mode, then
  ``bn_buffers_after_train_forward`` (running statistics after that
  forward) and ``train_loss``, the reference's training loss
  (``model/loss.py`` ``SoftIoULoss`` averaged over the 4 maps) against
  ``train_target``;
- one training step of ``train.py`` from the same weights (Adagrad lr 0.05,
  its ``CosineAnnealingLR`` stepped once before training, the loss above on
  ``train_input``): ``step_lr``, ``step_param_checksums`` (sum, abs-sum of
  every parameter after the step) and ``step_output``, the ``final4`` map
  of a train-mode forward of ``train_input`` after the step.

The weights (18 MB) are not stored, only their ``shapes`` and
``generated_checksums`` (``serankdet/testing/seeded_weights.py``). Inputs are
float32 values (exact in float64).
"""
import torch
from generator_utils import (bn_buffers, box_target, load_module, parse_args,
                             reference_commit, seeded_normal, write_golden)
from serankdet.testing.seeded_weights import (recipe, seeded_state_dict,
                                              state_checksums)


def official_training_step(model, loss_fn, inputs, target):
    """One iteration of the reference ``train.py`` (optimizer, scheduler,
    loss as it builds them); returns the learning rate used."""
    optimizer = torch.optim.Adagrad(
        filter(lambda p: p.requires_grad, model.parameters()), lr=0.05)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(
        optimizer, T_max=1500, eta_min=1e-5)
    scheduler.step()  # train.py steps it once, before the first epoch
    model.train()
    preds = model(inputs)
    loss = sum(loss_fn(pred, target) for pred in preds) / len(preds)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    return optimizer.param_groups[0]['lr']


def main():
    args = parse_args(__doc__.split('\n')[0], 'dnanet.pt')
    torch.set_num_threads(1)
    net_module = load_module(args.checkout, 'model/model_DNANet.py',
                             'ref_dnanet')
    loss_module = load_module(args.checkout, 'model/loss.py',
                              'ref_dnanet_loss')

    model = net_module.DNANet(
        num_classes=1, input_channels=3, block=net_module.Res_CBAM_block,
        num_blocks=[2, 2, 2, 2], nb_filter=[16, 32, 64, 128, 256],
        deep_supervision=True).double()
    shapes = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    state = seeded_state_dict(shapes)
    model.load_state_dict(state)
    params = sum(p.numel() for p in model.parameters())

    inputs = seeded_normal(103, (2, 3, 64, 64))
    train_inputs = seeded_normal(203, (2, 3, 64, 64))
    target = box_target((2, 1, 64, 64), [(0, 10, 13, 20, 24),
                                         (0, 40, 42, 50, 51),
                                         (1, 30, 35, 5, 9)])
    with torch.no_grad():
        model.eval()
        outputs = model(inputs.double())
        model.train()
        train_outputs = model(train_inputs.double())
        train_loss = sum(loss_module.SoftIoULoss(pred, target)
                         for pred in train_outputs) / len(train_outputs)
    buffers = bn_buffers(model)
    model.load_state_dict(state)
    step_lr = official_training_step(model, loss_module.SoftIoULoss,
                                     train_inputs.double(), target)
    step_checksums = state_checksums(dict(model.named_parameters()))
    with torch.no_grad():
        step_output = model(train_inputs.double())[3]
    golden = dict(
        shapes=shapes,
        generated_checksums=state_checksums(state),
        input=inputs,
        output=[o.clone() for o in outputs],
        train_input=train_inputs,
        train_output=[o.clone() for o in train_outputs],
        train_target=target,
        train_loss=train_loss,
        bn_buffers_after_train_forward=buffers,
        step_lr=step_lr,
        step_param_checksums=step_checksums,
        step_output=step_output,
        output_names=['final1', 'final2', 'final3', 'final4'],
        meta=dict(
            reference_repo='YeRen123455/Infrared-Small-Target-Detection',
            reference_commit=reference_commit(args),
            torch_version=str(torch.__version__),
            build=('DNANet(num_classes=1, input_channels=3, '
                   'block=Res_CBAM_block, num_blocks=[2, 2, 2, 2], '
                   'nb_filter=[16, 32, 64, 128, 256], '
                   'deep_supervision=True)'),
            params=params,
            recipe=recipe(),
            seeds=dict(input=103, train_input=203),
            dtype='float64 (model.double(); inputs generated in float32)',
            loss=('model/loss.py SoftIoULoss summed over the 4 train '
                  'outputs and divided by 4, as train.py')))
    write_golden(golden, args.out, f'{params} parameters')


if __name__ == '__main__':
    main()
