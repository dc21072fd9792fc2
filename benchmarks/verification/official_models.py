"""The authors' own models, with their official training loss, optimizer
and learning-rate schedule.

``benchmarks/bench_models.py`` times our ports of SeRankDet, DATransNet and
SAM-SPL; this module builds the OFFICIAL implementations from a checkout of
the authors' repositories (imported at run time through
:mod:`verification.references`, nothing copied), so that both are measured
in the same run (``bench_models.py``) or trained side by side
(``step_exact.py``, ``parity.py``). Get the checkouts with::

    git clone https://github.com/GrokCV/SeRankDet
    git clone https://github.com/greekinRoma/DATransNet
    git clone https://github.com/fuyimin96/SAM-SPL

and pass each folder as ``root`` of :func:`build_reference`. Third-party
packages needed: ``einops`` (SeRankDet) and ``pyyaml`` (SAM-SPL). ``timm``
(DATransNet) and ``iopath`` (SAM-SPL) are replaced by stubs when absent,
because the reference imports them at module level without using them on
the path built here. Models are randomly initialised (no SAM2 weights).
"""
import dataclasses
import importlib
import importlib.util
import os.path as osp
import types
from typing import Callable, Iterable, List, Optional

import torch
from torch import Tensor, nn

from .references import (REPOS, bare_package, checkout_file, load_file,
                         stub_modules, temporary_modules)


REFERENCE_MODELS = ('serankdet', 'datransnet', 'samspl-t')


# Input side must be a multiple of this: SeRankDet pools 4 times;
# DATransNet pools once more inside its bottleneck; SAM-SPL tiles an 8x8
# window position embedding at 1/4 resolution.
SIZE_MULTIPLE = {'serankdet': 16, 'datransnet': 32, 'samspl-t': 32}


# the name of each official model's converter (serankdet.registry.CONVERTERS)
CONVERTER_NAMES = {'datransnet': 'datransnet', 'samspl-t': 'samspl',
                   'serankdet': 'serankdet'}


@dataclasses.dataclass
class ReferenceModel:
    """An official model with its official training loss and optimizer.

    Attributes:
        model: the reference ``nn.Module``, random init (``seed``).
        in_channels: channels of the input the reference expects.
        forward_train: ``x (B,C,H,W) -> [outputs]``, every map (B,1,H,W) the
            official loss uses, computed in train mode (switched to when
            needed).
        forward_eval: ``x -> (B,1,H,W)``, the map the official test script
            scores, computed in eval mode (switched to when needed).
        loss: ``(outputs of forward_train, target (B,1,H,W) float in
            [0, 1]) -> scalar``, the official training loss.
        make_optimizer: ``(params, **settings) -> Optimizer`` with the
            official hyper-parameters (SeRankDet: ``lr`` overrides the
            official 1e-4).
        make_scheduler: ``(optimizer, **settings) -> EpochScheduler``, the
            official learning-rate schedule, stepped where the official
            training loop steps it. ``settings`` override the official
            schedule length (``epochs``) and, for DATransNet,
            ``milestones``, for SeRankDet ``base_lr``; by default the paper
            values.
    """
    model: nn.Module
    in_channels: int
    forward_train: Callable[[Tensor], List[Tensor]]
    forward_eval: Callable[[Tensor], Tensor]
    loss: Callable[[List[Tensor], Tensor], Tensor]
    make_optimizer: Callable[[Iterable], torch.optim.Optimizer]
    make_scheduler: Optional[Callable[..., 'EpochScheduler']] = None


@dataclasses.dataclass
class EpochScheduler:
    """An official per-epoch learning-rate schedule, as its training loop
    drives it: ``start_epoch(e)`` before the first iteration of epoch ``e``
    (0-based) and ``end_epoch(e)`` after its last; each official loop uses
    one of the two, the other is a no-op."""
    start_epoch: Callable[[int], None]
    end_epoch: Callable[[int], None]


def _noop(epoch: int) -> None:
    del epoch


def _mode_forwards(model: nn.Module, train_outputs, eval_output):
    """Wrap the output selection into forwards that first make sure the
    model is in the right mode (switching only when it is not)."""

    def forward_train(x):
        if not model.training:
            model.train()
        return train_outputs(model(x))

    def forward_eval(x):
        if model.training:
            model.eval()
        return eval_output(model(x))

    return forward_train, forward_eval


def _serankdet_net_module(root: str, base_channels: int) -> types.ModuleType:
    """``model/SeRankDet/SeRankDet.py`` of the checkout, imported as it is
    (``base_channels`` 64) or with its width constant ``n1 = 64`` (a local
    of ``SeRankDet.__init__``, the only way the class sets its width) read
    as ``base_channels``: the source is changed in memory at import time,
    the checkout is not touched and nothing of it is copied."""
    net_path = checkout_file('serankdet', root,
                              'model/SeRankDet/SeRankDet.py')
    # SeRankDet.py imports `model.SeRankDet.tools` by absolute name.
    with temporary_modules('serankdet', {
            'model': bare_package('model', osp.join(root, 'model'))}):
        if base_channels == 64:
            return importlib.import_module('model.SeRankDet.SeRankDet')
        with open(net_path) as f:
            source = f.read()
        width_line = 'n1 = 64'
        if source.count(width_line) != 1:
            raise ValueError(
                f'serankdet: base_channels={base_channels} needs exactly one '
                f'{width_line!r} in {net_path}; this checkout has '
                f'{source.count(width_line)}')
        module = types.ModuleType('_reference_serankdet_net')
        module.__file__ = net_path
        exec(compile(source.replace(width_line, f'n1 = {base_channels}'),
                     net_path, 'exec'), module.__dict__)
        return module


def _serankdet_topk_tables(model: nn.Module, base_channels: int) -> None:
    """Re-key the per-stage Top-K tables (``mp``: channels -> K, written
    for channels 64 ... 1024) to the stage channels at ``base_channels``,
    keeping K per stage (512 ... 32), as our ``topk_budget = 512 *
    base_channels`` does."""
    for module in model.modules():
        table = getattr(module, 'mp', None)
        if isinstance(table, dict):
            module.mp = {channels * base_channels // 64: k
                         for channels, k in table.items()}


def _build_serankdet(root: str, size: int, seed: int,
                     base_channels: int = 64) -> ReferenceModel:
    """``base_channels``: the official width is 64; another width (e.g. 8
    for CPU runs) changes the width constant and the Top-K table keys at
    run time (K per stage stays the official 512 ... 32)."""
    name = 'serankdet'
    loss_path = checkout_file(name, root, 'utils/loss.py')
    net_module = _serankdet_net_module(root, base_channels)
    # utils/__init__.py imports the whole training stack (mmcv 1.x ...);
    # loss.py itself needs torch only.
    loss_module = load_file(loss_path, '_reference_serankdet_loss')
    # utils/scheduler.py needs only math (build/build_scheduler.py, which
    # picks the class by name, imports it through utils/__init__.py).
    scheduler_module = load_file(
        checkout_file(name, root, 'utils/scheduler.py'),
        '_reference_serankdet_scheduler')

    torch.manual_seed(seed)
    # configs/_base_/models/unetseries.py: decode_head deep_supervision=True;
    # in_ch stays at its default 3 (RGB input, ImageNet mean/std).
    model = net_module.SeRankDet(in_ch=3, out_ch=1, deep_supervision=True)
    if base_channels != 64:
        _serankdet_topk_tables(model, base_channels)
    criterion = loss_module.SoftIoULoss()  # sigmoid inside, batch soft-IoU

    def loss(outputs, target):
        # utils/tools.py compute_loss: sum of the criterion over all six
        # deep-supervision outputs, unweighted.
        return sum(criterion(out, target) for out in outputs)

    def make_optimizer(params, lr=1e-4):
        # configs/unetseries/unetseries_serankdet_*.py `optimizer` (lr 1e-4;
        # another lr is what a config with another `optimizer.lr` gives)
        return torch.optim.AdamW(
            params, lr=lr, weight_decay=0.01, betas=(0.9, 0.999))

    def make_scheduler(optimizer, epochs=500, base_lr=1e-4):
        # build/build_scheduler.py with configs/_base_/schedules/
        # schedule_500e.py lr_config (PolyLR, warmup 'linear', power 0.9,
        # min_lr 1e-4 (unused by PolyLR), warmup_epochs 5), base_lr from the
        # experiment's optimizer (1e-4), num_epochs = runner.max_epochs.
        scheduler = scheduler_module.PolyLR(
            optimizer=optimizer, num_epochs=epochs, base_lr=base_lr,
            policy='PolyLR', warmup='linear', power=0.9, min_lr=1e-4,
            warmup_epochs=5)
        # train.py: for epoch in 1..max_epochs: training(epoch) begins with
        # scheduler.step(epoch - 1), before the first iteration.
        return EpochScheduler(start_epoch=scheduler.step, end_epoch=_noop)

    # forward returns [d_s1..d_s5, out]; the tests score outs[-1].
    forward_train, forward_eval = _mode_forwards(
        model, list, lambda outs: outs[-1])
    return ReferenceModel(model, 3, forward_train, forward_eval, loss,
                          make_optimizer, make_scheduler)


def _build_datransnet(root: str, size: int, seed: int) -> ReferenceModel:
    name = 'datransnet'
    checkout_file(name, root, 'model/DATransNet/segmentation.py')
    loss_path = checkout_file(name, root, 'loss.py')
    modules = {'model': bare_package('model', osp.join(root, 'model'))}
    if importlib.util.find_spec('timm') is None:
        # CSPBlocks/InceptionNext.py imports these at module level; the
        # InceptionDWConv2d used by the net needs none of them.
        modules.update(stub_modules({
            'timm.data': ['IMAGENET_DEFAULT_MEAN', 'IMAGENET_DEFAULT_STD'],
            'timm.models.helpers': ['checkpoint_seq'],
            'timm.models.layers': ['trunc_normal_', 'DropPath'],
            'timm.models.registry': ['register_model'],
        }, 'timm'))
    with temporary_modules(name, modules):
        net_module = importlib.import_module('model.DATransNet.segmentation')
    # loss.py imports utils.utils (torchvision, matplotlib, skimage) only for
    # Get_gradient_nopadding, which ISNetLoss uses, not SoftIoULoss.
    with temporary_modules(
            name, stub_modules({'utils.utils': ['Get_gradient_nopadding']},
                                'torchvision matplotlib scikit-image')):
        loss_module = load_file(loss_path, '_reference_datransnet_loss')

    torch.manual_seed(seed)
    # net.py: Net(model_name='DATransNet', size=size) -> DATransNet(
    # img_size=size); size is 256 (NUDT-SIRST) or 512 (IRSTD-1K) in train.py.
    model = net_module.DATransNet(img_size=size)
    criterion = loss_module.SoftIoULoss()

    def loss(outputs, target):
        # train.py: net.loss(pred, mask) = SoftIoULoss on the single output
        # (already a probability: the net ends with .sigmoid()).
        return criterion(outputs[0], target)

    def make_optimizer(params):
        # train.py "default settings" + utils/utils.py get_optimizer.
        return torch.optim.Adam(params, lr=5e-4)

    def make_scheduler(optimizer, epochs=400, milestones=(200, 300)):
        # train.py sets scheduler_settings {'epochs': 400, 'step': [200,
        # 300], 'gamma': 0.1} for Adam; utils/utils.py get_optimizer builds
        # MultiStepLR(milestones=step, gamma); train.py calls
        # scheduler.step() after every epoch. `epochs` is the number of
        # epochs trained (nEpochs), the schedule does not read it.
        del epochs
        scheduler = torch.optim.lr_scheduler.MultiStepLR(
            optimizer, milestones=list(milestones), gamma=0.1)
        return EpochScheduler(start_epoch=_noop,
                              end_epoch=lambda epoch: scheduler.step())

    forward_train, forward_eval = _mode_forwards(
        model, lambda out: [out], lambda out: out)
    return ReferenceModel(model, 1, forward_train, forward_eval, loss,
                          make_optimizer, make_scheduler)


def _build_samspl_t(root: str, size: int, seed: int,
                    soft_iou: bool = False) -> ReferenceModel:
    """SAM-SPL-T of ``training.py``; ``soft_iou`` adds a batch soft-IoU
    term to each output's BCE, through the official ``Trainer(loss_fn=...)``
    hook (a reduced CPU setting, not the paper's recipe)."""
    name = 'samspl-t'
    checkout_file(name, root, 'sam_spl/base_model.py')
    config_path = checkout_file(name, root, 'sam_spl/configs/spl_t.yaml')
    adan_path = checkout_file(name, root, 'training/Adan.py')
    try:
        import yaml
    except ImportError as err:
        raise ImportError(
            f'{name}: reading {config_path} needs yaml: pip install pyyaml'
        ) from err
    with open(config_path) as f:
        config = yaml.safe_load(f)
    # Random init: without sam_ckpt_path, make_adaptor skips loading the
    # SAM2 weights (sam2.1_hiera_tiny.pt, not part of the checkout).
    config.pop('sam_ckpt_path', None)

    # base_model.py imports `sam_spl.*` by absolute name.
    modules = {
        'sam_spl': bare_package('sam_spl', osp.join(root, 'sam_spl'))}
    if importlib.util.find_spec('iopath') is None:
        # hieradet.py imports g_pathmgr at module level; it is only used
        # when Hiera gets a weights_path, which make_adaptor never passes.
        modules.update(
            stub_modules({'iopath.common.file_io': ['g_pathmgr']}, 'iopath'))
    with temporary_modules(name, modules):
        base_module = importlib.import_module('sam_spl.base_model')
    # training/__init__.py imports the trainer (loguru, enlighten); Adan.py
    # itself needs torch only.
    adan_module = load_file(adan_path, '_reference_samspl_adan')

    torch.manual_seed(seed)
    # training.py: make_adaptor(**yaml) then _freeze_encoder() (the Hiera
    # trunk gets requires_grad=False).
    model = base_module.make_adaptor(**config)
    model._freeze_encoder()
    bce = nn.BCELoss(reduction='mean')

    def criterion(probability, target):
        # the Trainer's loss_fn, called on probabilities
        value = bce(probability, target)
        if soft_iou:
            # 1 - (sum(p t) + 1) / (sum(p) + sum(t) - sum(p t) + 1) over the
            # batch (DATransNet's and SeRankDet's SoftIoULoss)
            inter = (probability * target).sum()
            value = value + 1 - (inter + 1) / (
                probability.sum() + target.sum() - inter + 1)
        return value

    def loss(outputs, target):
        # training/trainer.py train_one_epoch: sum of
        # loss_fn(sigmoid(out), mask) over the three outputs.
        return sum(criterion(out.sigmoid(), target) for out in outputs)

    def make_optimizer(params, lr=1e-2):
        # training.py: Adan(model.parameters(), lr=args.lr (0.01),
        # weight_decay=1e-4), other arguments at Adan's defaults.
        return adan_module.Adan(params, lr=lr, weight_decay=1e-4)

    def make_scheduler(optimizer, epochs=300):
        # training.py: CosineAnnealingLR(T_max=args.epoch (300),
        # eta_min=args.eta_min (1e-6)); training/trainer.py
        # train_one_epoch ends with scheduler.step().
        scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(
            optimizer, T_max=epochs, eta_min=1e-6)
        return EpochScheduler(start_epoch=_noop,
                              end_epoch=lambda epoch: scheduler.step())

    # The trainer's evaluate and testing.py score output [0].
    forward_train, forward_eval = _mode_forwards(
        model, list, lambda outs: outs[0])
    return ReferenceModel(model, 3, forward_train, forward_eval, loss,
                          make_optimizer, make_scheduler)


_BUILDERS = {
    'serankdet': _build_serankdet,
    'datransnet': _build_datransnet,
    'samspl-t': _build_samspl_t,
}


def build_reference(name: str, root: str, size: int, seed: int = 0,
                    **settings) -> ReferenceModel:
    """Build the official model ``name`` from the checkout at ``root``.

    Args:
        name: one of :data:`REFERENCE_MODELS`.
        root: folder of a clone of the model's official repository.
        size: input side the model will be run at (DATransNet fixes its
            attention scaling from it at build time, as its train.py does).
        seed: ``torch.manual_seed`` right before the model is built, which
            is where the official scripts' seed reaches the initialisation.
        settings: model-specific build options, default the official
            model: ``base_channels`` (SeRankDet's width, 64).

    Raises:
        ValueError: unknown name, or a size the model cannot take.
        FileNotFoundError: ``root`` lacks an expected reference file.
        ImportError: a third-party package the reference needs is missing.
    """
    if name not in _BUILDERS:
        raise ValueError(f'unknown reference model {name!r}; choose one of '
                         f'{REFERENCE_MODELS}')
    if size <= 0 or size % SIZE_MULTIPLE[name]:
        raise ValueError(f'{name}: size must be a positive multiple of '
                         f'{SIZE_MULTIPLE[name]}, got {size}')
    if not osp.isdir(root):
        raise FileNotFoundError(
            f'{name}: checkout folder {root!r} does not exist; clone it with '
            f'`git clone {REPOS[name]}` and pass that folder as root')
    return _BUILDERS[name](osp.abspath(root), size, seed, **settings)
