"""The two training sides stepped in lockstep: ours exactly as
``tools/train.py`` runs it (``model.train_step`` with the optim wrapper and
parameter schedulers built from the config, stepped by mmengine's
``ParamSchedulerHook``) and the official training loop (the official
optimizer and per-epoch scheduler, stepped where the official script steps
it), on the same batches; and both sides' learning rate per epoch of a
schedule, without a network."""
import copy
import os.path as osp
import sys
from types import SimpleNamespace
from typing import Dict, List, Optional, Sequence

import torch
from torch import nn

from . import REPO_ROOT
from .comparison import fingerprint, gradient_maxima
from .settings import StepSpec, apply_overrides


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
