"""Golden vectors of DNANet from the official code.

Usage::

    git clone https://github.com/YeRen123455/Infrared-Small-Target-Detection
    python benchmarks/golden/make_dnanet.py Infrared-Small-Target-Detection \
        [--out tests/data/golden/dnanet.pt]

Builds the official ``DNANet`` (``model/model_DNANet.py``, imported at run
time from the checkout; nothing of it is copied here) as its ``train.py``
does by default: ``Res_CBAM_block``, ``num_blocks=[2, 2, 2, 2]``,
``nb_filter=[16, 32, 64, 128, 256]``, 3 input channels, deep supervision.
Every state-dict entry is replaced by a value generated from its key
(:func:`golden_value`, so that no weight sits at its initialisation and
BatchNorm statistics are non-trivial) and the network runs in float64:

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

The weights (18 MB) are not stored: ``generated_checksums[key]`` = (sum,
abs-sum) in float64 lets a test check its regeneration, and
``shapes[key]`` lists every key. Inputs are float32 values (stored as
float32, exact in float64).
"""
import argparse
import importlib.util
import os.path as osp
import subprocess
import zlib

import torch

DEFAULT_OUT = osp.join(
    osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))), 'tests',
    'data', 'golden', 'dnanet.pt')
RECIPE = (
    'Every floating state_dict entry is generated from its reference key '
    'with g = torch.Generator().manual_seed(zlib.crc32(key.encode())) in '
    'float64: ndim >= 2 (conv weights): randn(shape) / sqrt(prod(shape[1:]))'
    '; "running_var": 0.5 + rand(shape); other keys ending in "weight" '
    '(BatchNorm): 1 + 0.2 * randn(shape); all other floating keys (biases, '
    'running_mean): 0.1 * randn(shape). num_batches_tracked stays 0.')


def golden_value(key: str, shape) -> torch.Tensor:
    """The generated float64 value of the floating state-dict entry
    ``key`` (see ``RECIPE``)."""
    rng = torch.Generator().manual_seed(zlib.crc32(key.encode('utf-8')))
    shape = tuple(shape)
    if len(shape) >= 2:
        fan_in = torch.tensor(shape[1:]).prod().item()
        return torch.randn(shape, generator=rng,
                           dtype=torch.float64) / fan_in**0.5
    if key.endswith('running_var'):
        return 0.5 + torch.rand(shape, generator=rng, dtype=torch.float64)
    if key.endswith('weight'):
        return 1 + 0.2 * torch.randn(shape, generator=rng,
                                     dtype=torch.float64)
    return 0.1 * torch.randn(shape, generator=rng, dtype=torch.float64)


def load_module(path: str, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


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
    net_module = load_module(
        osp.join(args.checkout, 'model', 'model_DNANet.py'), 'ref_dnanet')
    loss_module = load_module(
        osp.join(args.checkout, 'model', 'loss.py'), 'ref_dnanet_loss')

    model = net_module.DNANet(
        num_classes=1, input_channels=3, block=net_module.Res_CBAM_block,
        num_blocks=[2, 2, 2, 2], nb_filter=[16, 32, 64, 128, 256],
        deep_supervision=True).double()
    state = model.state_dict()
    checksums, shapes = {}, {}
    for key, value in state.items():
        shapes[key] = tuple(value.shape)
        if value.is_floating_point():
            value.copy_(golden_value(key, value.shape))
            checksums[key] = (value.sum().item(), value.abs().sum().item())
    model.load_state_dict(state)
    initial_state = {k: v.clone() for k, v in state.items()}
    params = sum(p.numel() for p in model.parameters())

    inputs = torch.randn(2, 3, 64, 64, generator=torch.Generator()
                         .manual_seed(103))
    train_inputs = torch.randn(2, 3, 64, 64, generator=torch.Generator()
                               .manual_seed(203))
    # a few small targets, as in IRSTD masks
    target = torch.zeros(2, 1, 64, 64, dtype=torch.float64)
    target[0, 0, 10:13, 20:24] = 1
    target[0, 0, 40:42, 50:51] = 1
    target[1, 0, 30:35, 5:9] = 1
    with torch.no_grad():
        model.eval()
        outputs = model(inputs.double())
        model.train()
        train_outputs = model(train_inputs.double())
        train_loss = sum(loss_module.SoftIoULoss(pred, target)
                         for pred in train_outputs) / len(train_outputs)
    buffers = {k: v.clone() for k, v in model.state_dict().items()
               if k.endswith(('running_mean', 'running_var',
                              'num_batches_tracked'))}
    model.load_state_dict(initial_state)
    step_lr = official_training_step(model, loss_module.SoftIoULoss,
                                     train_inputs.double(), target)
    step_checksums = {k: (v.sum().item(), v.abs().sum().item())
                      for k, v in model.named_parameters()}
    with torch.no_grad():
        step_output = model(train_inputs.double())[3]
    golden = dict(
        shapes=shapes,
        generated_checksums=checksums,
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
            reference_commit=args.commit or commit_of(args.checkout),
            torch_version=str(torch.__version__),
            build=('DNANet(num_classes=1, input_channels=3, '
                   'block=Res_CBAM_block, num_blocks=[2, 2, 2, 2], '
                   'nb_filter=[16, 32, 64, 128, 256], '
                   'deep_supervision=True)'),
            params=params,
            recipe=RECIPE,
            seeds=dict(input=103, train_input=203),
            dtype='float64 (model.double(); inputs generated in float32)',
            loss=('model/loss.py SoftIoULoss summed over the 4 train '
                  'outputs and divided by 4, as train.py')))
    torch.save(golden, args.out)
    print(f'wrote {args.out}: {params} parameters, {len(shapes)} keys, '
          f'commit {golden["meta"]["reference_commit"]}')


if __name__ == '__main__':
    main()
