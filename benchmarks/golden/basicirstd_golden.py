"""Golden vectors of BasicIRSTD's ACM and ALCNet from the official code
(shared by ``make_acm.py`` and ``make_alcnet.py``).

Builds the official network (``model/ACM/model_ACM.py`` ``ASKCResUNet`` or
``model/ACM/model_ALCnet.py`` ``ASKCResNetFPN``, with the defaults BasicIRSTD's
``net.py`` uses), imported at run time from a checkout of XinyiYing/BasicIRSTD
(nothing of it is copied here). Every floating state-dict entry is replaced by
a value generated from its key (``serankdet/testing/seeded_weights.py``: no
weight sits at its initialisation, BatchNorm statistics are non-trivial) and
the network runs in float64:

- ``input`` (2, 1, 64, 64) -> ``output``: the official output (sigmoid
  probabilities at input size) and ``head_logits``, the logits of its
  ``head`` before upsampling, in eval mode;
- ``train_input`` -> ``train_output`` and ``train_head_logits`` in train
  mode, after ``torch.manual_seed(meta['train_seed'])`` (the head's dropout
  is the only random operation), then ``bn_buffers_after_train_forward``
  (running statistics after that forward) and ``train_loss``, BasicIRSTD's
  ``SoftIoULoss`` (``loss.py``) of ``train_output`` against
  ``train_target``.

The weights are not stored, only their ``shapes`` (the network's own names;
BasicIRSTD checkpoints prefix them with ``model.``) and ``generated_checksums``
(``serankdet/testing/seeded_weights.py``). ``meta['params']`` is the official
parameter count, ``meta['params_used']`` without modules the forward never
runs.

The official code imports torchvision (``BasicBlock``,
``transforms.Resize``). A CUDA build of torchvision on a CPU-only torch
cannot load its compiled ops; it is then imported without registering
them (neither class uses them).
"""
import contextlib
import importlib
import importlib.util
import os.path as osp
import sys
import types

import torch
from generator_utils import (bn_buffers, box_target, load_module, parse_args,
                             reference_commit, seeded_normal, write_golden)
from serankdet.testing.seeded_weights import (recipe, seeded_state_dict,
                                              state_checksums)

# official class, module file, constructor call (BasicIRSTD net.py: ACM()
# and ALCNet() with their defaults)
MODELS = dict(
    acm=('ASKCResUNet', 'model_ACM', 'ASKCResUNet()'),
    alcnet=('ASKCResNetFPN', 'model_ALCnet', 'ASKCResNetFPN()'))
TRAIN_SEED = 1234


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


def make_golden(name: str, args) -> dict:
    torchvision_import = import_torchvision()
    class_name, module_name, build = MODELS[name]
    package = load_package(osp.join(args.checkout, 'model', 'ACM'),
                           'ref_basicirstd_acm')
    with on_sys_path(args.checkout):
        loss_module = load_module(args.checkout, 'loss.py',
                                  'ref_basicirstd_loss')
    model = getattr(getattr(package, module_name), class_name)().double()
    shapes = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    state = seeded_state_dict(shapes)
    model.load_state_dict(state)

    inputs = seeded_normal(103, (2, 1, 64, 64))
    train_inputs = seeded_normal(203, (2, 1, 64, 64))
    target = box_target((2, 1, 64, 64), [(0, 10, 13, 20, 24),
                                         (0, 40, 42, 50, 51),
                                         (1, 30, 35, 5, 9)])
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
    return dict(
        shapes=shapes,
        generated_checksums=state_checksums(state),
        input=inputs,
        output=outputs.clone(),
        head_logits=head_logits[0],
        train_input=train_inputs,
        train_output=train_outputs.clone(),
        train_head_logits=head_logits[1],
        train_target=target,
        train_loss=train_loss,
        bn_buffers_after_train_forward=bn_buffers(model),
        meta=dict(
            reference_repo='XinyiYing/BasicIRSTD',
            reference_commit=reference_commit(args),
            torch_version=str(torch.__version__),
            torchvision_import=torchvision_import,
            build=f'model/ACM/{module_name}.py: {build}',
            params=sum(p.numel() for p in model.parameters()),
            params_used=params_used,
            recipe=recipe(),
            dtype='float64 (weights, inputs cast from float32, outputs)',
            train_seed=TRAIN_SEED,
            notes=('output is the official sigmoid output; head_logits are '
                   'the logits before the upsampling to the input size. '
                   'Compare in float64 (about 1e-12).')))


def main(name: str, argv=None):
    args = parse_args(
        f'Golden vectors of BasicIRSTD {name} (see '
        'benchmarks/golden/basicirstd_golden.py)', f'{name}.pt', argv)
    torch.set_num_threads(1)
    golden = make_golden(name, args)
    write_golden(
        golden, args.out, f'{golden["meta"]["params"]} parameters (used '
        f'{golden["meta"]["params_used"]})')
