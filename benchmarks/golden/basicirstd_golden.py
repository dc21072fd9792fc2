"""Golden vectors of BasicIRSTD's ACM and ALCNet from the official code
(shared by ``make_acm.py`` and ``make_alcnet.py``).

Builds the official network (``model/ACM/model_ACM.py`` ``ASKCResUNet`` or
``model/ACM/model_ALCnet.py`` ``ASKCResNetFPN``, with the defaults
BasicIRSTD's ``net.py`` uses), imported at run time from a checkout of
XinyiYing/BasicIRSTD (nothing of it is copied here). Every floating
state-dict entry is replaced by a value generated from its key
(:func:`golden_value`: no weight sits at its initialisation, BatchNorm
statistics are non-trivial) and the network runs in float64:

- ``input`` (2, 1, 64, 64) -> ``output``: the official output (sigmoid
  probabilities at input size) and ``head_logits``, the logits of its
  ``head`` before upsampling, in eval mode;
- ``train_input`` -> ``train_output`` and ``train_head_logits`` in train
  mode, after ``torch.manual_seed(meta['train_seed'])`` (the head's dropout
  is the only random operation), then ``bn_buffers_after_train_forward``
  (running statistics after that forward) and ``train_loss``, BasicIRSTD's
  ``SoftIoULoss`` (``loss.py``) of ``train_output`` against
  ``train_target``.

The weights are not stored: ``generated_checksums[key]`` = (sum, abs-sum)
in float64 lets a test check its regeneration, ``shapes[key]`` lists every
key (the network's own names; BasicIRSTD checkpoints prefix them with
``model.``). ``meta['params']`` is the official parameter count,
``meta['params_used']`` without modules the forward never runs.

The official code imports torchvision (``BasicBlock``,
``transforms.Resize``). A CUDA build of torchvision on a CPU-only torch
cannot load its compiled ops; it is then imported without registering
them (neither class uses them).
"""
import argparse
import contextlib
import importlib
import importlib.util
import os.path as osp
import subprocess
import sys
import types
import zlib

import torch

OUT_DIR = osp.join(
    osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))), 'tests',
    'data', 'golden')
RECIPE = (
    'Every floating state_dict entry is generated from its key (the '
    'network\'s own name, without "model.") with g = torch.Generator()'
    '.manual_seed(zlib.crc32(key.encode())) in float64: ndim >= 2 (conv '
    'weights): randn(shape) / sqrt(prod(shape[1:])); "running_var": 0.5 + '
    'rand(shape); other keys ending in "weight" (BatchNorm): 1 + 0.2 * '
    'randn(shape); all other floating keys (biases, running_mean): 0.1 * '
    'randn(shape). num_batches_tracked stays 0.')
# official class, module file, constructor call (BasicIRSTD net.py: ACM()
# and ALCNet() with their defaults)
MODELS = dict(
    acm=('ASKCResUNet', 'model_ACM', 'ASKCResUNet()'),
    alcnet=('ASKCResNetFPN', 'model_ALCnet', 'ASKCResNetFPN()'))
TRAIN_SEED = 1234


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


def import_torchvision():
    """Import torchvision; when its compiled ops cannot load (a CUDA wheel
    on a CPU torch), import it without their registrations."""
    try:
        importlib.import_module('torchvision')
        return 'with compiled ops'
    except (OSError, RuntimeError):
        for name in [n for n in sys.modules if n.startswith('torchvision')]:
            del sys.modules[name]
        for name in ('_meta_registrations', '_autograd_registrations'):
            full = f'torchvision.{name}'
            sys.modules[full] = types.ModuleType(full)
        importlib.import_module('torchvision')
        return 'without compiled ops (op registrations skipped)'


@contextlib.contextmanager
def on_sys_path(folder: str):
    """BasicIRSTD's ``loss.py`` imports its top-level ``utils``."""
    sys.path.insert(0, folder)
    try:
        yield
    finally:
        sys.path.remove(folder)
        sys.modules.pop('utils', None)


def load_package(folder: str, name: str):
    """Import ``folder`` (with relative imports) as package ``name``."""
    spec = importlib.util.spec_from_file_location(
        name, osp.join(folder, '__init__.py'),
        submodule_search_locations=[folder])
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def load_module(path: str, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def commit_of(checkout: str) -> str:
    try:
        return subprocess.run(
            ['git', '-C', checkout, 'rev-parse', 'HEAD'], check=True,
            capture_output=True, text=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return 'unknown (not a git checkout)'


def used_parameters(model, inputs) -> int:
    """Parameters of the modules a forward pass runs (what BasicIRSTD's
    ``cal_params.py`` reports through thop)."""
    ran = set()
    hooks = [m.register_forward_hook(lambda m, i, o: ran.add(m))
             for m in model.modules()]
    with torch.no_grad():
        model(inputs)
    for hook in hooks:
        hook.remove()
    return sum(p.numel() for m in ran for p in m.parameters(recurse=False))


def make_golden(name: str, checkout: str, commit: str = None) -> dict:
    torchvision_import = import_torchvision()
    class_name, module_name, build = MODELS[name]
    package = load_package(osp.join(checkout, 'model', 'ACM'),
                           'ref_basicirstd_acm')
    with on_sys_path(checkout):
        loss_module = load_module(osp.join(checkout, 'loss.py'),
                                  'ref_basicirstd_loss')
    model = getattr(getattr(package, module_name), class_name)().double()
    state = model.state_dict()
    checksums, shapes = {}, {}
    for key, value in state.items():
        shapes[key] = tuple(value.shape)
        if value.is_floating_point():
            value.copy_(golden_value(key, value.shape))
            checksums[key] = (value.sum().item(), value.abs().sum().item())
    model.load_state_dict(state)

    inputs = torch.randn(2, 1, 64, 64, generator=torch.Generator()
                         .manual_seed(103))
    train_inputs = torch.randn(2, 1, 64, 64, generator=torch.Generator()
                               .manual_seed(203))
    # a few small targets, as in IRSTD masks
    target = torch.zeros(2, 1, 64, 64, dtype=torch.float64)
    target[0, 0, 10:13, 20:24] = 1
    target[0, 0, 40:42, 50:51] = 1
    target[1, 0, 30:35, 5:9] = 1
    head_logits = []
    model.head.register_forward_hook(
        lambda m, i, o: head_logits.append(o.clone()))
    model.eval()
    params_used = used_parameters(model, inputs.double())
    head_logits.clear()
    with torch.no_grad():
        outputs = model(inputs.double())
        model.train()
        torch.manual_seed(TRAIN_SEED)
        train_outputs = model(train_inputs.double())
        train_loss = loss_module.SoftIoULoss()(train_outputs, target)
    buffers = {k: v.clone() for k, v in model.state_dict().items()
               if k.endswith(('running_mean', 'running_var',
                              'num_batches_tracked'))}
    return dict(
        shapes=shapes,
        generated_checksums=checksums,
        input=inputs,
        output=outputs.clone(),
        head_logits=head_logits[0],
        train_input=train_inputs,
        train_output=train_outputs.clone(),
        train_head_logits=head_logits[1],
        train_target=target,
        train_loss=train_loss,
        bn_buffers_after_train_forward=buffers,
        meta=dict(
            reference_repo='XinyiYing/BasicIRSTD',
            reference_commit=commit or commit_of(checkout),
            torch_version=str(torch.__version__),
            torchvision_import=torchvision_import,
            build=f'model/ACM/{module_name}.py: {build}',
            params=sum(p.numel() for p in model.parameters()),
            params_used=params_used,
            recipe=RECIPE,
            dtype='float64 (weights, inputs cast from float32, outputs)',
            train_seed=TRAIN_SEED,
            notes=('output is the official sigmoid output; head_logits are '
                   'the logits before the upsampling to the input size. '
                   'Compare in float64 (about 1e-12).')))


def main(name: str, argv=None):
    parser = argparse.ArgumentParser(
        description=f'Golden vectors of BasicIRSTD {name} (see '
        f'benchmarks/golden/basicirstd_golden.py)')
    parser.add_argument('checkout', help='XinyiYing/BasicIRSTD checkout')
    parser.add_argument('--out', default=osp.join(OUT_DIR, f'{name}.pt'))
    parser.add_argument('--commit', default=None,
                        help='commit to record when the checkout has no .git')
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    golden = make_golden(name, args.checkout, args.commit)
    torch.save(golden, args.out)
    print(f'wrote {args.out}: params {golden["meta"]["params"]} '
          f'(used {golden["meta"]["params_used"]})')
