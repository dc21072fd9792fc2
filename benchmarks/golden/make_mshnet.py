"""Golden vectors of MSHNet from the official code (Lliu666/MSHNet).

Usage::

    python benchmarks/golden/make_mshnet.py /path/to/MSHNet-checkout \
        [--out tests/data/golden/mshnet.pt] [--commit SHA]

Imports ``model/MSHNet.py`` and ``model/loss.py`` of the checkout at run time
(nothing of it is copied here; ``loss.py`` needs scikit-image), builds
``MSHNet(3)`` in float64 with every state entry regenerated from a seed per
key (:func:`serankdet.testing.seeded_weights.mshnet_seeded_state_dict`: no
weight at its initial value, non-trivial BatchNorm statistics; the file
stores the keys, shapes and checksums instead of 4 M weights), and writes:

* ``input`` (2, 3, 64, 64) -> eval-mode outputs with ``warm_flag=True``
  (``eval_output`` fused map, ``eval_masks`` the four side maps) and with
  ``warm_flag=False`` (``eval_output_warm_up``), in float64;
  ``eval_output_f32``: the fused map with the weights cast to float32, one
  thread;
* ``train_input`` -> train-mode outputs (``train_output``, ``train_masks``)
  and ``bn_buffers_after_train_forward`` (reference keys);
* ``train_target`` and the training loss of those outputs as ``main.py``
  combines it (the SLS loss on the fused map and on every side map against
  the labels max-pooled once more per scale, divided by the number of
  maps): ``train_loss`` after the warm-up (epoch 6) and
  ``train_loss_warm_up`` (epoch 3, the fused map is then ``output_0`` alone);
* ``sls_cases``: ``SLSIoULoss`` values and gradients on seeded logits
  (3, 1, 16, 16) and a target with an empty image.
"""
import torch
from generator_utils import (bn_buffers, box_target, load_module, parse_args,
                             reference_commit, seeded_normal, write_golden)
from serankdet.testing.seeded_weights import (mshnet_seeded_state_dict,
                                              state_checksums)

REFERENCE_COMMIT = '7c5194b8caeb3329ba8a67c75a6928d4dbeb3582'
WARM_EPOCH = 5  # main.py --warm-epoch default


def official_training_loss(loss_fn, pred, masks, labels, epoch):
    """``main.py``'s ``Trainer.train`` loss for one batch."""
    down = torch.nn.MaxPool2d(2, 2)
    loss = loss_fn(pred, labels, WARM_EPOCH, epoch)
    for index, mask in enumerate(masks):
        if index > 0:
            labels = down(labels)
        loss = loss + loss_fn(mask, labels, WARM_EPOCH, epoch)
    return loss / (len(masks) + 1)


def main():
    args = parse_args(__doc__.split('\n')[0], 'mshnet.pt')
    net_module = load_module(args.checkout, 'model/MSHNet.py',
                             '_mshnet_reference_net')
    loss_module = load_module(args.checkout, 'model/loss.py',
                              '_mshnet_reference_loss')
    torch.set_num_threads(1)

    net = net_module.MSHNet(3).double()
    shapes = {k: tuple(v.shape) for k, v in net.state_dict().items()}
    state = mshnet_seeded_state_dict(shapes)
    net.load_state_dict(state, strict=True)
    num_params = sum(p.numel() for p in net.parameters())

    inputs = seeded_normal(101, (2, 3, 64, 64), torch.float64)
    train_inputs = seeded_normal(202, (2, 3, 64, 64), torch.float64)
    with torch.no_grad():
        net.eval()
        eval_masks, eval_output = net(inputs, True)
        _, eval_output_warm_up = net(inputs, False)
        net32 = net_module.MSHNet(3)
        net32.load_state_dict({k: v.float() if v.is_floating_point() else v
                               for k, v in state.items()})
        eval_output_f32 = net32.eval()(inputs.float(), True)[1]
        net.train()
        train_masks, train_output = net(train_inputs, True)
    buffers = bn_buffers(net)

    loss_fn = loss_module.SLSIoULoss()
    train_target = box_target((2, 1, 64, 64), [(0, 10, 13, 20, 23),
                                               (0, 40, 42, 50, 52),
                                               (1, 30, 35, 12, 16)])
    train_loss = official_training_loss(loss_fn, train_output, train_masks,
                                        train_target, epoch=6)
    train_loss_warm_up = official_training_loss(loss_fn, train_masks[0], [],
                                                train_target, epoch=3)

    sls_logits = seeded_normal(303, (3, 1, 16, 16), torch.float64) * 3
    sls_target = box_target((3, 1, 16, 16), [(0, 2, 5, 3, 6),
                                             (1, 9, 11, 12, 15)])
    sls_cases = []
    for epoch, with_shape in ((WARM_EPOCH, True), (WARM_EPOCH + 1, True),
                              (WARM_EPOCH + 1, False)):
        logits = sls_logits.clone().requires_grad_(True)
        value = loss_fn(logits, sls_target, WARM_EPOCH, epoch, with_shape)
        value.backward()
        sls_cases.append(dict(epoch=epoch, with_shape=with_shape,
                              loss=value.detach(), grad=logits.grad))

    golden = dict(
        meta=dict(
            reference_repo='Lliu666/MSHNet',
            reference_commit=reference_commit(args, REFERENCE_COMMIT),
            torch_version=str(torch.__version__),
            warm_epoch=WARM_EPOCH,
            recipe=mshnet_seeded_state_dict.__doc__,
            notes='float64 except eval_output_f32 (float32, one thread); '
            'inputs are normal noise standing in for ImageNet-normalised '
            'frames'),
        reference_shapes={k: list(v) for k, v in shapes.items()},
        checksums=state_checksums(state),
        num_params=num_params,
        input=inputs, eval_output=eval_output, eval_masks=eval_masks,
        eval_output_warm_up=eval_output_warm_up,
        eval_output_f32=eval_output_f32,
        train_input=train_inputs, train_output=train_output,
        train_masks=train_masks, bn_buffers_after_train_forward=buffers,
        train_target=train_target, train_loss=train_loss.detach(),
        train_loss_warm_up=train_loss_warm_up.detach(),
        sls_logits=sls_logits, sls_target=sls_target, sls_cases=sls_cases)
    write_golden(golden, args.out,
                 f'outputs |max| {eval_output.abs().max():.3g}',
                 f'train loss {train_loss:.6f}')


if __name__ == '__main__':
    main()
