"""Step-exact training: the official code and ours, N optimizer steps apart.

For each model the OFFICIAL network (imported at run time from a checkout,
see ``reference_models.py``) and OURS are started from the same weights and
trained on the same fixed batches for N optimizer steps, each with its own
training code:

* official: the network, loss, optimizer and per-epoch learning-rate
  schedule of the authors' training script, stepped where that script steps
  it (SeRankDet: ``scheduler.step(epoch - 1)`` before each epoch; DATransNet
  and SAM-SPL: ``scheduler.step()`` after each epoch);
* ours: exactly what ``tools/train.py`` runs: the model built from the
  model's paper config, the official initial weights mapped by our converter
  (``serankdet.models.converters``), ``model.train_step(data, optim_wrapper)``
  (data preprocessor, ``model.loss``, mmengine's ``parse_losses`` and
  ``OptimWrapper.update_params``) with the optim wrapper built by mmengine
  from the config's ``optim_wrapper`` and the parameter schedulers built
  from its ``param_scheduler`` as mmengine's ``Runner`` builds them, stepped
  by mmengine's own ``ParamSchedulerHook`` (per iteration or per epoch).

Both run in float64 (``--dtype``), in train mode (BatchNorm on batch
statistics, running statistics updated), on seeded synthetic frames with a
few small bright blobs and their masks, without augmentation. The network
input of the official model is our data preprocessor's output for the same
frames (both models see bit-identical inputs; the data pipelines are
compared elsewhere). The frames are gray and go to the preprocessor as
(1, H, W), not through a loader: the input is the same bit for bit when
the config's loader reads RGB (``color_type='rgb'``, gray replicated to
(3, H, W), then normalised per channel). An epoch is 2 iterations
(``StepSpec.epoch_len``), so schedules defined in epochs change within a
few steps, and the schedule length is compressed the same way on both
sides (``StepSpec.schedule``):
SeRankDet an 8-epoch schedule of which 14 steps reach epoch 6 (lr/5, the
5-epoch linear warm-up, then Poly), DATransNet milestones at epochs 2 and 4,
SAM-SPL a 6-epoch cosine. The paper-length schedules are compared
separately, epoch by epoch, without a network.

Reported per step: official loss, our loss, |difference|, official and our
learning rate; after N steps: the largest absolute and relative difference
over every parameter and every BatchNorm buffer (``running_mean``,
``running_var``, ``num_batches_tracked``), naming the worst key. Parameters
whose exact gradient is 0 (a bias followed by a train-mode BatchNorm, the
key projection bias of softmax attention, attention over a single token)
are reported apart: their computed gradient is rounding noise (1e-20 where
others are 1e-3) that Adam-type optimizers normalise into updates, so they
carry the largest differences; ``--noise-floor THREADS`` reruns the official
code with another thread count to show the official code differs from
itself as much.

The initial weights are regenerated from a seed per official key
(:func:`regenerate_weights`), so that ``benchmarks/tests/test_step_exact.py``
can replay our side without the checkouts against the official losses,
learning rates and final-weight fingerprints stored by ``--write-ci-data``.

Usage::

    PYTHONPATH=<dir with einops> python benchmarks/step_exact.py \\
        --models datransnet samspl-t serankdet \\
        --reference-root datransnet=../DATransNet \\
        --reference-root samspl-t=../SAM-SPL \\
        --reference-root serankdet=../SeRankDet \\
        --out benchmarks/results/step_exact.json [--write-ci-data]
"""
import argparse
import copy
import dataclasses
import hashlib
import json
import math
import os
import os.path as osp
import subprocess
import sys
import time
import zlib
from types import SimpleNamespace
from typing import Dict, List, Optional, Sequence

import torch
from torch import nn

HERE = osp.dirname(osp.abspath(__file__))
REPO_ROOT = osp.dirname(HERE)
CI_DATA_DIR = osp.join(REPO_ROOT, 'tests', 'data')
if REPO_ROOT not in sys.path:
    sys.path.insert(0, REPO_ROOT)


# --------------------------------------------------------------------------
# What is compared


@dataclasses.dataclass
class StepSpec:
    """One model's step-exact setting.

    Attributes:
        converter: name of our converter (official keys -> ours).
        config: our paper config, relative to the repository root (or
            an absolute path).
        size, batch: input side and batch size.
        steps: optimizer steps of the benchmark run.
        epoch_len: iterations per epoch.
        schedule: the compressed schedule, in the official script's terms
            (``make_scheduler`` keyword arguments); :func:`apply_overrides`
            writes the same into our config.
        paper_schedule: the paper schedule, for the network-free check.
        ci_steps: steps the CI test replays (the official state after them
            is fingerprinted too).
        threads: torch threads of the benchmark run.
        official_commit: the commit the golden files name.
    """
    converter: str
    config: str
    size: int
    batch: int
    steps: int
    epoch_len: int
    schedule: Dict
    paper_schedule: Dict
    ci_steps: int
    threads: int = 1
    official_commit: str = ''


SPECS: Dict[str, StepSpec] = {
    'datransnet': StepSpec(
        converter='datransnet',
        config='configs/datransnet/datransnet_1xb4-400e_nudt-sirst-256x256.py',
        # 64: GFEM's non-local attention sees 2x2 positions (at 32, the
        # smallest side, it sees one: theta and phi get no gradient)
        size=64, batch=2, steps=12, epoch_len=2,
        schedule=dict(epochs=6, milestones=(2, 4)),
        paper_schedule=dict(epochs=400, milestones=(200, 300)),
        ci_steps=12, official_commit='7308740'),
    'samspl-t': StepSpec(
        converter='samspl',
        config='configs/samspl/samspl-t_1xb12-300e_nudt-sirst-256x256.py',
        # 32: the smallest side (the 8x8 window embedding tiles the 1/4
        # token grid)
        size=32, batch=2, steps=12, epoch_len=2,
        schedule=dict(epochs=6), paper_schedule=dict(epochs=300),
        ci_steps=6, official_commit='1bde7b5'),
    'serankdet': StepSpec(
        converter='serankdet',
        config='configs/serankdet/serankdet_1xb4-500e_irstd1k-512x512.py',
        # 96: the smallest side the official Top-K accepts (the 1/16 map
        # needs >= 32 pixels); 14 steps of 2 iterations = epochs 0..6:
        # lr/5, the warm-up to lr, then Poly
        size=96, batch=2, steps=14, epoch_len=2,
        schedule=dict(epochs=8), paper_schedule=dict(epochs=500),
        ci_steps=2, threads=2, official_commit='9f62f73'),
}


def apply_overrides(name: str, cfg, size: int, schedule: Dict) -> None:
    """Write the run's input size and schedule length into our config,
    the same change as the official side gets through its arguments."""
    epochs = schedule['epochs']
    cfg.train_cfg.max_epochs = epochs
    schedulers = cfg.param_scheduler
    if name == 'datransnet':
        # the attention's 1/sqrt(area) constant: DATransNet(img_size=size)
        cfg.model.neck.img_size = size
        (multistep, ) = schedulers
        assert multistep.type == 'MultiStepLR' and multistep.by_epoch
        multistep.milestones = list(schedule['milestones'])
        multistep.end = epochs
    elif name == 'samspl-t':
        # weights come from the converter, not from the SAM2 file
        cfg.model.backbone.trunk.pretrained = None
        (cosine, ) = schedulers
        assert cosine.type == 'CosineAnnealingLR' and cosine.by_epoch
        cosine.T_max = epochs
        cosine.end = epochs
    elif name == 'serankdet':
        from serankdet import recipes

        # the function the config builds its schedule with
        cfg.param_scheduler = recipes.serankdet_param_scheduler(epochs)
    else:
        raise ValueError(name)


# --------------------------------------------------------------------------
# Initial weights and batches, reproducible without the checkouts


def weight_layout(model: nn.Module) -> List[List]:
    """``[key, kind, shape]`` of every state-dict entry of the official
    model; ``kind`` says how :func:`regenerate_weights` draws it."""
    modules = dict(model.named_modules())
    layout = []
    for key, value in model.state_dict(keep_vars=True).items():
        owner, _, attr = key.rpartition('.')
        module = modules[owner]
        if not value.is_floating_point():
            if attr != 'num_batches_tracked':
                raise ValueError(f'{key}: unexpected integer tensor')
            kind = 'zero'
        elif attr in ('running_mean', 'running_var'):
            kind = attr
        elif (attr == 'weight' and value.dim() >= 2 and isinstance(
                module, (nn.Linear, nn.modules.conv._ConvNd))):
            kind = 'fan_in'
        elif value.dim() == 1 and bool((value == 1).all()):
            kind = 'one'  # norm scales
        else:
            kind = 'small'  # biases, norm shifts, tokens, tables
        layout.append([key, kind, list(value.shape)])
    return layout


def regenerate_weights(layout: Sequence, seed: int = 0,
                       dtype=torch.float64) -> Dict[str, torch.Tensor]:
    """Official-named initial weights, each drawn from its own generator
    seeded by ``crc32(key) + seed``: ``fan_in`` N(0, 1/fan_in), ``one``
    1 + 0.1 N(0, 1), ``small`` 0.02 N(0, 1), ``running_mean`` 0.1 N(0, 1),
    ``running_var`` U(0.5, 1.5), ``zero`` integer 0."""
    state = {}
    for key, kind, shape in layout:
        rng = torch.Generator().manual_seed(
            zlib.crc32(key.encode('utf-8')) + seed)
        if kind == 'zero':
            state[key] = torch.zeros(shape, dtype=torch.int64)
            continue
        if kind == 'running_var':
            value = torch.rand(shape, generator=rng, dtype=torch.float64) + 0.5
        else:
            value = torch.randn(shape, generator=rng, dtype=torch.float64)
            if kind == 'fan_in':
                value = value / math.sqrt(math.prod(shape[1:]))
            elif kind == 'one':
                value = 1.0 + 0.1 * value
            elif kind == 'running_mean':
                value = 0.1 * value
            elif kind == 'small':
                value = 0.02 * value
            else:
                raise ValueError(f'{key}: unknown kind {kind!r}')
        state[key] = value.to(dtype)
    return state


def make_frames(count: int, size: int, seed: int = 0):
    """``count`` uint8 gray frames (size x size) of noisy background with
    1-3 small Gaussian blobs, and their masks (blob > 1/4 of its peak)."""
    rng = torch.Generator().manual_seed(seed)
    axis = torch.arange(size, dtype=torch.float64)
    yy, xx = torch.meshgrid(axis, axis, indexing='ij')
    frames, masks = [], []
    for _ in range(count):
        uniform = lambda *shape: torch.rand(  # noqa: E731
            *shape, generator=rng, dtype=torch.float64)
        img = 50.0 + 30.0 * uniform(size, size)
        mask = torch.zeros(size, size, dtype=torch.bool)
        for _ in range(1 + int(torch.randint(3, (1, ), generator=rng))):
            cy, cx = (4 + (size - 8) * uniform(2)).tolist()
            sigma = 0.8 + 1.5 * float(uniform(1))
            peak = 90.0 + 100.0 * float(uniform(1))
            blob = peak * torch.exp(-((yy - cy)**2 + (xx - cx)**2) /
                                    (2 * sigma**2))
            img += blob
            mask |= blob > 0.25 * peak
        frames.append(img.round().clamp(0, 255).to(torch.uint8))
        masks.append(mask.to(torch.uint8))
    return frames, masks


def frames_digest(frames, masks) -> str:
    digest = hashlib.sha256()
    for tensor in list(frames) + list(masks):
        digest.update(tensor.numpy().tobytes())
    return digest.hexdigest()


def batch_data(frames, masks, indices) -> dict:
    """The data dict our dataloader yields: uint8 frames (1, H, W) and
    ``SegDataSample``s with int64 masks and ``img_max_value``."""
    from mmengine.structures import PixelData
    from mmseg.structures import SegDataSample
    inputs, samples = [], []
    for i in indices:
        frame, mask = frames[i], masks[i]
        shape = tuple(frame.shape)
        sample = SegDataSample(metainfo=dict(
            img_path=f'frame{i}.png', ori_shape=shape, img_shape=shape,
            img_max_value=255.0))
        sample.gt_sem_seg = PixelData(data=mask[None].long())
        inputs.append(frame[None].clone())
        samples.append(sample)
    return dict(inputs=inputs, data_samples=samples)


def batch_indices(step: int, batch: int, epoch_len: int) -> List[int]:
    """Frames of a step: the same ``epoch_len`` batches every epoch."""
    first = (step % epoch_len) * batch
    return list(range(first, first + batch))


# --------------------------------------------------------------------------
# Our side


def register_modules():
    from serankdet.apis import register_all_modules
    register_all_modules()


def build_ours(name: str, spec: StepSpec, official_state: Dict,
               dtype=torch.float64, schedule: Optional[Dict] = None,
               unfused: bool = False):
    """Our model (paper config + overrides) loaded with the converted
    official weights, its optim wrapper and parameter schedulers.
    ``unfused``: drop the config's ``fused=True`` (diagnostic)."""
    from mmengine.config import Config
    from mmengine.optim import build_optim_wrapper

    from serankdet.apis.conversion import convert_state_dict
    from serankdet.registry import MODELS
    register_modules()
    schedule = schedule or spec.schedule
    cfg = Config.fromfile(osp.join(REPO_ROOT, spec.config))
    apply_overrides(name, cfg, spec.size, schedule)
    if unfused:
        cfg.optim_wrapper.optimizer.pop('fused', None)
    converted, notes = convert_state_dict(spec.converter, official_state)
    model = MODELS.build(cfg.model).to(dtype)
    model.load_state_dict(converted, strict=True)
    optim_wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    schedulers = build_param_schedulers(cfg, optim_wrapper, spec.epoch_len)
    return model, optim_wrapper, schedulers, cfg, notes


def build_param_schedulers(cfg, optim_wrapper, epoch_len: int):
    """As ``Runner._build_param_scheduler``: ``end`` defaults to the train
    loop's length, ``epoch_length`` is the dataloader's length."""
    from mmengine.registry import PARAM_SCHEDULERS
    schedulers = []
    for scheduler in cfg.param_scheduler:
        scheduler = copy.deepcopy(scheduler)
        scheduler.setdefault(
            'end', cfg.train_cfg.max_epochs if scheduler.get(
                'by_epoch', True) else cfg.train_cfg.max_epochs * epoch_len)
        schedulers.append(PARAM_SCHEDULERS.build(
            scheduler, default_args=dict(optimizer=optim_wrapper,
                                         epoch_length=epoch_len)))
    return schedulers


def run_ours(name: str, spec: StepSpec, official_state: Dict, frames, masks,
             steps: int, dtype=torch.float64,
             fingerprint_steps: Sequence[int] = (),
             unfused: bool = False) -> dict:
    """``steps`` iterations of what the runner's EpochBasedTrainLoop does:
    ``model.train()`` per epoch, ``model.train_step`` per iteration,
    mmengine's ParamSchedulerHook after every iteration and epoch."""
    from mmengine.hooks import ParamSchedulerHook
    model, optim_wrapper, schedulers, cfg, notes = build_ours(
        name, spec, official_state, dtype, unfused=unfused)
    hook = ParamSchedulerHook()
    runner = SimpleNamespace(param_schedulers=schedulers)
    losses, lrs, fingerprints = [], [], {}
    for step in range(steps):
        batch_idx = step % spec.epoch_len
        if batch_idx == 0:
            model.train()
        lrs.append(optim_wrapper.get_lr()['lr'][0])
        data = batch_data(frames, masks,
                          batch_indices(step, spec.batch, spec.epoch_len))
        log_vars = model.train_step(data, optim_wrapper)
        losses.append(log_vars['loss'].item())
        _progress('ours', step, steps, losses[-1])
        hook.after_train_iter(runner, batch_idx)
        if batch_idx == spec.epoch_len - 1:
            hook.after_train_epoch(runner)
        if step + 1 in fingerprint_steps:
            fingerprints[step + 1] = fingerprint(model.state_dict())
    return dict(losses=losses, lrs=lrs, model=model, notes=notes,
                fingerprints=fingerprints, optimizer=type(
                    optim_wrapper.optimizer).__name__,
                optimizer_defaults={
                    k: v for k, v in optim_wrapper.optimizer.defaults.items()
                    if isinstance(v, (int, float, bool, tuple, type(None)))})


def network_inputs(spec, frames, masks, dtype):
    """Our data preprocessor's output for every batch of an epoch: the
    official model's input (bit-identical on both sides)."""
    from mmengine.config import Config

    from serankdet.registry import MODELS
    register_modules()
    cfg = Config.fromfile(osp.join(REPO_ROOT, spec.config))
    preprocessor = MODELS.build(cfg.model.data_preprocessor).to(dtype)
    batches = []
    for step in range(spec.epoch_len):
        data = preprocessor(batch_data(
            frames, masks, batch_indices(step, spec.batch, spec.epoch_len)),
            True)
        target = torch.stack([s.gt_sem_seg.data for s in data['data_samples']])
        batches.append((data['inputs'], (target > 0).to(dtype)))
    return batches


def _progress(side: str, step: int, steps: int, loss: float) -> None:
    if PROGRESS:
        print(f'  {side} step {step + 1}/{steps}: loss {loss:.17g}',
              file=sys.stderr, flush=True)


PROGRESS = False

# --------------------------------------------------------------------------
# The official side


def run_official(ref, spec: StepSpec, initial: Dict, batches, steps: int,
                 dtype=torch.float64,
                 fingerprint_steps: Sequence[int] = (),
                 optimizer_options: Optional[Dict] = None) -> dict:
    """The official training loop: per epoch the official scheduler calls,
    per iteration forward (train mode), loss, zero_grad, backward, step.
    ``optimizer_options``: ``make_optimizer`` keywords (a reduced
    setting's learning rate)."""
    model = ref.model.to(dtype)
    model.load_state_dict(initial, strict=True)
    optimizer = ref.make_optimizer(model.parameters(),
                                   **(optimizer_options or {}))
    scheduler = ref.make_scheduler(optimizer, **spec.schedule)
    losses, lrs, fingerprints = [], [], {}
    for step in range(steps):
        epoch, batch_idx = divmod(step, spec.epoch_len)
        if batch_idx == 0:
            scheduler.start_epoch(epoch)
        inputs, target = batches[batch_idx]
        lrs.append(optimizer.param_groups[0]['lr'])
        loss = ref.loss(ref.forward_train(inputs), target)
        optimizer.zero_grad()
        loss.backward()
        if step == 0:
            first_gradients = gradient_maxima(model)
        optimizer.step()
        losses.append(loss.item())
        _progress('official', step, steps, losses[-1])
        if batch_idx == spec.epoch_len - 1:
            scheduler.end_epoch(epoch)
        if step + 1 in fingerprint_steps:
            fingerprints[step + 1] = fingerprint(model.state_dict())
    return dict(losses=losses, lrs=lrs, model=model,
                fingerprints=fingerprints, first_gradients=first_gradients,
                optimizer=type(optimizer).__name__,
                optimizer_defaults={
                    k: v for k, v in optimizer.defaults.items()
                    if isinstance(v, (int, float, bool, tuple, type(None)))})


# --------------------------------------------------------------------------
# Schedules over the paper length, without a network


def official_epoch_lrs(ref, schedule: Dict) -> List[float]:
    """The official learning rate of every epoch of the paper schedule."""
    param = nn.Parameter(torch.zeros(1))
    optimizer = ref.make_optimizer([param])
    scheduler = ref.make_scheduler(optimizer, **schedule)
    lrs = []
    for epoch in range(schedule['epochs']):
        scheduler.start_epoch(epoch)
        lrs.append(optimizer.param_groups[0]['lr'])
        scheduler.end_epoch(epoch)
    return lrs


def our_epoch_lrs(name: str, spec: StepSpec, schedule: Dict) -> List[float]:
    """Our learning rate of every epoch: the config's optimizer and
    schedulers (with ``schedule``), one iteration per epoch, stepped by
    mmengine's ParamSchedulerHook."""
    from mmengine.config import Config
    from mmengine.hooks import ParamSchedulerHook
    from mmengine.optim import build_optim_wrapper
    register_modules()
    cfg = Config.fromfile(osp.join(REPO_ROOT, spec.config))
    apply_overrides(name, cfg, spec.size, schedule)
    model = nn.Linear(1, 1)
    optim_wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    schedulers = build_param_schedulers(cfg, optim_wrapper, 1)
    hook, runner = ParamSchedulerHook(), SimpleNamespace(
        param_schedulers=schedulers)
    lrs = []
    for _ in range(schedule['epochs']):
        lrs.append(optim_wrapper.get_lr()['lr'][0])
        hook.after_train_iter(runner, 0)
        hook.after_train_epoch(runner)
    return lrs


# --------------------------------------------------------------------------
# Comparison


def fingerprint(state: Dict[str, torch.Tensor]) -> Dict[str, List[float]]:
    """Per tensor, in float64: sum, sum of |x| and the dot product with a
    ramp from -1 to 1 (order-sensitive)."""
    out = {}
    for key, value in state.items():
        value = value.detach().double().flatten()
        ramp = torch.linspace(-1.0, 1.0, value.numel(), dtype=torch.float64)
        out[key] = [value.sum().item(), value.abs().sum().item(),
                    (value * ramp).sum().item()]
    return out


def _bn_buffer(key: str) -> bool:
    return key.rsplit('.', 1)[-1] in ('running_mean', 'running_var',
                                      'num_batches_tracked')


def compare_states(spec: StepSpec, official: Dict[str, torch.Tensor],
                   other: Dict[str, torch.Tensor],
                   initial: Dict[str, torch.Tensor],
                   parameters: Dict[str, bool],
                   no_true_gradient: Sequence[str] = ()) -> dict:
    """Max abs / rel difference between two trained states, per group, with
    the worst keys. ``official`` and ``initial`` have official keys,
    ``other`` ours (or official ones, converted too). ``parameters``: our
    parameter keys -> trainable. Groups: ``weights`` (trainable parameters
    with a gradient), ``weights_no_true_gradient`` (official keys in
    ``no_true_gradient``: a bias followed by a train-mode BatchNorm, whose
    exact gradient is 0, so its computed gradient is rounding noise that
    Adam-type optimizers normalise into updates), ``frozen``,
    ``bn_buffers``, ``other_buffers``. ``moved``: the largest change of the
    official tensors in training."""
    from serankdet.apis.conversion import convert_state_dict
    official_ours, _ = convert_state_dict(spec.converter, official)
    initial_ours, _ = convert_state_dict(spec.converter, initial)
    if set(other) != set(official_ours):
        other, _ = convert_state_dict(spec.converter, other)
    spec_map = _converter_map(spec.converter)
    noise_keys = {spec_map(k) for k in no_true_gradient}
    groups = {name: {} for name in ('weights', 'weights_no_true_gradient',
                                    'frozen', 'bn_buffers',
                                    'other_buffers')}
    for key, ref in official_ours.items():
        if key in parameters:
            group = ('frozen' if not parameters[key] else
                     'weights_no_true_gradient' if key in noise_keys else
                     'weights')
        else:
            group = 'bn_buffers' if _bn_buffer(key) else 'other_buffers'
        ref64, mine64 = ref.double(), other[key].double()
        if not ref.numel():
            continue
        diff = (mine64 - ref64).abs().max().item()
        scale = ref64.abs().max().item()
        moved = (ref64 - initial_ours[key].double()).abs().max().item()
        groups[group][key] = dict(abs=diff, rel=diff / scale if scale
                                  else diff, moved=moved)
    summary = {}
    for group, entries in groups.items():
        if not entries:
            continue
        worst_abs = max(entries, key=lambda k: entries[k]['abs'])
        worst_rel = max(entries, key=lambda k: entries[k]['rel'])
        summary[group] = dict(
            count=len(entries),
            max_abs=entries[worst_abs]['abs'], worst_abs_key=worst_abs,
            max_rel=entries[worst_rel]['rel'], worst_rel_key=worst_rel,
            max_moved=max(e['moved'] for e in entries.values()))
    return summary


def fingerprint_difference(spec: StepSpec, official: Dict[str, List[float]],
                           ours: Dict[str, List[float]]) -> dict:
    """Largest fingerprint difference relative to the tensor's sum of |x|
    (what the CI test bounds), with its key (ours)."""
    map_key = _converter_map(spec.converter)
    worst, worst_key = 0.0, None
    for key, values in official.items():
        mine = ours.get(map_key(key))
        if mine is None:
            continue
        scale = max(abs(values[1]), 1e-30)
        rel = max(abs(a - b) for a, b in zip(mine, values)) / scale
        if rel >= worst:
            worst, worst_key = rel, map_key(key)
    return dict(max_rel=worst, worst_key=worst_key)


def _converter_map(name: str):
    from serankdet.models.converters import get_converter
    return get_converter(name).map_key


def gradient_maxima(model: nn.Module) -> Dict[str, float]:
    return {k: p.grad.abs().max().item() for k, p in model.named_parameters()
            if p.grad is not None and p.numel()}


def without_true_gradient(maxima: Dict[str, float],
                          ratio: float = 1e-10) -> List[str]:
    """Parameters whose first gradient is below ``ratio`` times the largest
    one: rounding noise (in float64 about 1e-20 against 1e-2 and more)."""
    if not maxima:
        return []
    top = max(maxima.values())
    return sorted(k for k, v in maxima.items() if v <= ratio * top)


def bce_saturation(dtype=torch.float32) -> List[dict]:
    """SAM-SPL's official loss, ``BCELoss(sigmoid(x), t)``, against ours,
    ``binary_cross_entropy_with_logits(x, t)``, for t = 0 and growing x:
    equal until sigmoid(x) rounds to 1 (x > 16.6 in float32, 36.7 in
    float64); from there the official loss is clamped (log >= -100) and
    its gradient is 0, while ours keeps loss x and gradient 1."""
    rows = []
    for value in (5.0, 10.0, 15.0, 17.0, 20.0, 30.0, 40.0):
        grads = []
        for official in (True, False):
            x = torch.tensor([value], dtype=dtype, requires_grad=True)
            t = torch.zeros(1, dtype=dtype)
            loss = (nn.functional.binary_cross_entropy(x.sigmoid(), t)
                    if official else
                    nn.functional.binary_cross_entropy_with_logits(x, t))
            loss.backward()
            grads.append((loss.item(), x.grad.item()))
        rows.append(dict(logit=value, target=0, official_loss=grads[0][0],
                         official_grad=grads[0][1], our_loss=grads[1][0],
                         our_grad=grads[1][1]))
    return rows


def official_commit(root: str) -> str:
    try:
        return subprocess.run(
            ['git', '-C', root, 'rev-parse', 'HEAD'], capture_output=True,
            text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return 'unknown (not a git checkout)'


def run_model(name: str, root: str, steps: Optional[int], size: Optional[int],
              dtype, seed: int, write_ci: bool, unfused: bool = False,
              threads: Optional[int] = None,
              noise_floor_threads: Optional[int] = None) -> dict:
    from reference_models import build_reference
    spec = SPECS[name]
    if size:
        spec = dataclasses.replace(spec, size=size)
    if steps:
        spec = dataclasses.replace(spec, steps=steps,
                                   ci_steps=min(spec.ci_steps, steps))
    if threads:
        spec = dataclasses.replace(spec, threads=threads)
    torch.set_num_threads(spec.threads)
    started = time.perf_counter()
    ref = build_reference(name, root, spec.size)
    layout = weight_layout(ref.model)
    initial = regenerate_weights(layout, seed, dtype)
    frames, masks = make_frames(spec.epoch_len * spec.batch, spec.size, seed)
    batches = network_inputs(spec, frames, masks, dtype)
    fp_steps = sorted({spec.ci_steps, spec.steps})

    t0 = time.perf_counter()
    official = run_official(ref, spec, initial, batches, spec.steps, dtype,
                            fp_steps)
    official_s = time.perf_counter() - t0
    official_state = {k: v.detach().clone()
                      for k, v in official['model'].state_dict().items()}
    paper_official = official_epoch_lrs(ref, spec.paper_schedule)
    del ref, official['model']

    t0 = time.perf_counter()
    ours = run_ours(name, spec, initial, frames, masks, spec.steps, dtype,
                    fp_steps, unfused)
    ours_s = time.perf_counter() - t0
    paper_ours = our_epoch_lrs(name, spec, spec.paper_schedule)

    rows = []
    for step in range(spec.steps):
        ref_loss, our_loss = official['losses'][step], ours['losses'][step]
        rows.append(dict(
            step=step + 1, epoch=step // spec.epoch_len,
            official_loss=ref_loss, our_loss=our_loss,
            loss_abs_diff=abs(our_loss - ref_loss),
            official_lr=official['lrs'][step], our_lr=ours['lrs'][step],
            lr_abs_diff=abs(ours['lrs'][step] - official['lrs'][step])))
    parameters = {k: p.requires_grad
                  for k, p in ours['model'].named_parameters()}
    no_true_gradient = without_true_gradient(official['first_gradients'])
    states = compare_states(spec, official_state, ours['model'].state_dict(),
                            initial, parameters, no_true_gradient)
    noise_floor = None
    if noise_floor_threads:
        # the official code against itself, with another thread count
        torch.set_num_threads(noise_floor_threads)
        t0 = time.perf_counter()
        again = run_official(build_reference(name, root, spec.size), spec,
                             initial, batches, spec.steps, dtype)
        torch.set_num_threads(spec.threads)
        noise_floor = dict(
            threads=noise_floor_threads,
            max_loss_abs_diff=max(abs(a - b) for a, b in zip(
                again['losses'], official['losses'])),
            final=compare_states(spec, official_state,
                                 again['model'].state_dict(), initial,
                                 parameters, no_true_gradient),
            wall_s=time.perf_counter() - t0)
        del again
    result = dict(
        model=name, config=spec.config, converter=spec.converter,
        official_root=osp.abspath(root),
        official_commit=official_commit(root),
        expected_official_commit=spec.official_commit,
        dtype=str(dtype).replace('torch.', ''), seed=seed, size=spec.size,
        batch=spec.batch, steps=spec.steps, epoch_len=spec.epoch_len,
        schedule=_plain(spec.schedule), threads=spec.threads,
        unfused=unfused,
        official_optimizer=[official['optimizer'],
                            _plain(official['optimizer_defaults'])],
        our_optimizer=[ours['optimizer'], _plain(ours['optimizer_defaults'])],
        converter_notes=ours['notes'], per_step=rows,
        max_loss_abs_diff=max(r['loss_abs_diff'] for r in rows),
        max_loss_rel_diff=max(r['loss_abs_diff'] / abs(r['official_loss'])
                              for r in rows),
        max_lr_abs_diff=max(r['lr_abs_diff'] for r in rows),
        final=states, no_true_gradient=no_true_gradient,
        fingerprint_difference={
            str(k): fingerprint_difference(spec, official['fingerprints'][k],
                                           ours['fingerprints'][k])
            for k in fp_steps},
        official_noise_floor=noise_floor,
        paper_schedule=dict(
            settings=_plain(spec.paper_schedule),
            epochs=len(paper_official),
            max_lr_abs_diff=max(abs(a - b) for a, b in
                                zip(paper_official, paper_ours)),
            first_lrs=paper_official[:8], last_lr=paper_official[-1]),
        wall_s=dict(official=official_s, ours=ours_s,
                    total=time.perf_counter() - started))
    if name == 'samspl-t':
        result['bce_saturation_float32'] = bce_saturation(torch.float32)
    if write_ci:
        result['ci_data'] = write_ci_data(
            name, spec, layout, seed, dtype, frames, masks, official,
            paper_official, initial)
    return result


def write_ci_data(name, spec, layout, seed, dtype, frames, masks, official,
                  paper_lrs, initial) -> str:
    """``tests/data/step_exact_<name>.json``: what the CI test needs to
    replay our side without the checkout."""
    os.makedirs(CI_DATA_DIR, exist_ok=True)
    path = osp.join(CI_DATA_DIR, f'step_exact_{name}.json')
    data = dict(
        model=name, official_commit=spec.official_commit,
        note='written by benchmarks/step_exact.py --write-ci-data from a '
             'run of the official code; see benchmarks/README.md',
        torch=torch.__version__, dtype=str(dtype).replace('torch.', ''),
        seed=seed, size=spec.size, batch=spec.batch, epoch_len=spec.epoch_len,
        schedule=_plain(spec.schedule),
        paper_schedule=_plain(spec.paper_schedule),
        ci_steps=spec.ci_steps, steps=spec.steps,
        frames_sha256=frames_digest(frames, masks),
        initial_fingerprint=fingerprint(initial),
        layout=layout,
        official_losses=official['losses'], official_lrs=official['lrs'],
        official_fingerprints={str(k): v for k, v in
                               official['fingerprints'].items()},
        official_paper_lrs=paper_lrs)
    with open(path, 'w') as f:
        json.dump(data, f, separators=(',', ':'))
    return osp.relpath(path, REPO_ROOT)


def _plain(value):
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


# --------------------------------------------------------------------------
# Report


def print_report(result: dict) -> None:
    name = result['model']
    print(f'\n== {name}: {result["steps"]} steps, {result["size"]}x'
          f'{result["size"]}, batch {result["batch"]}, epoch = '
          f'{result["epoch_len"]} iterations, schedule {result["schedule"]},'
          f' {result["dtype"]}')
    print(f'official {result["official_optimizer"][0]} '
          f'{result["official_optimizer"][1]}')
    print(f'ours     {result["our_optimizer"][0]} '
          f'{result["our_optimizer"][1]}')
    header = (f'{"step":>4} {"epoch":>5} {"official loss":>22} '
              f'{"our loss":>22} {"|diff|":>9} {"official lr":>12} '
              f'{"our lr":>12} {"|lr diff|":>9}')
    print(header)
    for r in result['per_step']:
        print(f'{r["step"]:>4} {r["epoch"]:>5} {r["official_loss"]:>22.17g} '
              f'{r["our_loss"]:>22.17g} {r["loss_abs_diff"]:>9.2e} '
              f'{r["official_lr"]:>12.6g} {r["our_lr"]:>12.6g} '
              f'{r["lr_abs_diff"]:>9.2e}')
    print(f'max |loss diff| {result["max_loss_abs_diff"]:.3e} (relative '
          f'{result["max_loss_rel_diff"]:.3e}), max |lr diff| '
          f'{result["max_lr_abs_diff"]:.3e}')
    print(f'after {result["steps"]} steps, ours vs official:')
    _print_states(result['final'])
    floor = result.get('official_noise_floor')
    if floor:
        print(f'official vs official with {floor["threads"]} threads '
              f'(rounding scale): max |loss diff| '
              f'{floor["max_loss_abs_diff"]:.3e}')
        _print_states(floor['final'])
    for k, fp in result['fingerprint_difference'].items():
        print(f'  fingerprints after {k} steps: max difference '
              f'{fp["max_rel"]:.3e} of the sum of |x| ({fp["worst_key"]})')
    paper = result['paper_schedule']
    print(f'paper schedule {paper["settings"]}: max |lr diff| over '
          f'{paper["epochs"]} epochs {paper["max_lr_abs_diff"]:.3e}')
    for row in result.get('bce_saturation_float32', []):
        print(f'  loss on one pixel, logit {row["logit"]:>4g}, target 0 '
              f'(float32): official {row["official_loss"]:.6g} (gradient '
              f'{row["official_grad"]:.3g}), ours {row["our_loss"]:.6g} '
              f'(gradient {row["our_grad"]:.3g})')
    wall = result['wall_s']
    print(f'wall: official {wall["official"]:.1f} s, ours '
          f'{wall["ours"]:.1f} s, total {wall["total"]:.1f} s')
    if 'ci_data' in result:
        print(f'wrote {result["ci_data"]}')


def _print_states(summary: dict) -> None:
    for group, s in summary.items():
        print(f'  {group:<25} {s["count"]:>4} tensors: max abs '
              f'{s["max_abs"]:.3e} ({s["worst_abs_key"]}), max rel '
              f'{s["max_rel"]:.3e} ({s["worst_rel_key"]}); moved by training '
              f'up to {s["max_moved"]:.3e}')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--models', nargs='+', choices=list(SPECS),
                        default=list(SPECS))
    parser.add_argument('--reference-root', action='append', default=[],
                        metavar='NAME=PATH',
                        help='checkout of the official repository of NAME')
    parser.add_argument('--steps', type=int,
                        help='optimizer steps (default: per model, >= 12)')
    parser.add_argument('--size', type=int, help='input side (default: '
                        'per model, the smallest the official code takes)')
    parser.add_argument('--dtype', choices=('float64', 'float32'),
                        default='float64')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--threads', type=int,
                        help='torch threads (default: per model)')
    parser.add_argument('--noise-floor', type=int, metavar='THREADS',
                        help='run the official code a second time with '
                        'THREADS torch threads and report how far it moves '
                        'from its first run (rounding, for scale)')
    parser.add_argument('--unfused', action='store_true',
                        help='diagnostic: our optimizer without the '
                        "config's fused=True (the official one is unfused)")
    parser.add_argument('--out', default='benchmarks/results/step_exact.json')
    parser.add_argument('--write-ci-data', action='store_true',
                        help='store the official losses, learning rates and '
                        'weight fingerprints in tests/data for the CI test')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    global PROGRESS
    PROGRESS = True
    roots = dict(item.split('=', 1) for item in args.reference_root)
    missing = [m for m in args.models if m not in roots]
    if missing:
        raise SystemExit(f'--reference-root NAME=PATH missing for {missing}')
    dtype = getattr(torch, args.dtype)
    results = {}
    out = osp.join(REPO_ROOT, args.out) if not osp.isabs(args.out) \
        else args.out
    if osp.exists(out):  # keep the other models of an earlier run
        with open(out) as f:
            results = json.load(f).get('models', {})
    for name in args.models:
        result = run_model(name, roots[name], args.steps, args.size, dtype,
                           args.seed, args.write_ci_data, args.unfused,
                           args.threads, args.noise_floor)
        print_report(result)
        results[name] = result
        os.makedirs(osp.dirname(out), exist_ok=True)
        with open(out, 'w') as f:
            json.dump(dict(torch=torch.__version__, python=sys.version,
                           models=results), f, indent=1)
    print(f'\nwrote {out}')
    return 0


if __name__ == '__main__':
    sys.path.insert(0, HERE)
    sys.exit(main())
