"""The toolbox's Runner: mmengine's, with safe resume, strict loading and
atomic saving."""
import os
import os.path as osp
import re

import torch
from mmengine.config import Config
from mmengine.dist import is_main_process
from mmengine.hooks import CheckpointHook
from mmengine.model import is_model_wrapper
from mmengine.optim import OptimWrapperDict
from mmengine.runner import Runner
from mmengine.runner.checkpoint import _load_checkpoint_to_model

from serankdet.evaluation import IRSTDMetric
from serankdet.registry import RUNNERS
from serankdet.utils.checkpoint import (check_state_dict, load_checkpoint_file,
                                        unsafe_checkpoint_loading)
from .console_filter import quiet_console
from .hooks.checkpoint_hook import PARTIAL_SUFFIX
from .resume import find_resume_checkpoint

#: Names under which a config can ask for mmengine's CheckpointHook.
_MMENGINE_CHECKPOINT_HOOK = ('CheckpointHook', 'mmengine.CheckpointHook',
                             CheckpointHook)


class SyncBatchNormError(ValueError):
    """SyncBatchNorm is asked for where torch cannot run it."""


def check_sync_bn(sync_bn) -> None:
    """Raise :class:`SyncBatchNormError` when the config asks for SyncBN
    (``sync_bn``, set by ``tools/train.py --sync-bn``) and CUDA is
    unavailable: torch's (and mmcv's) SyncBatchNorm run on GPUs only, and
    would fail at the first training step of a distributed CPU (gloo)
    run."""
    if sync_bn is None or torch.cuda.is_available():
        return
    raise SyncBatchNormError(
        f'sync_bn={sync_bn!r} (--sync-bn): SyncBatchNorm needs CUDA GPUs '
        'and this machine has none; distributed training on CPUs (gloo) '
        'keeps BatchNorm statistics per process. Run without --sync-bn.')


class _TextCachedConfig(Config):
    """A run's config whose text is formatted once: mmengine stores
    ``cfg.pretty_text`` in every checkpoint and formats it with yapf each
    time (about a second for a large config)."""

    @classmethod
    def of(cls, cfg: Config) -> '_TextCachedConfig':
        """A new config of this class holding ``cfg``'s dict, text, file
        name and imported names (shared, not copied: the runner copies)."""
        cached = cls.__new__(cls)
        for key, value in vars(cfg).items():
            # Config.__setattr__ writes config keys
            super(Config, cached).__setattr__(key, value)
        return cached

    @property
    def pretty_text(self) -> str:
        if '_pretty_text' not in self.__dict__:
            object.__setattr__(self, '_pretty_text', super().pretty_text)
        return self.__dict__['_pretty_text']


@RUNNERS.register_module()
class IRSTDRunner(Runner):
    """mmengine ``Runner`` with these changes.

    - Every checkpoint load, :meth:`resume` included, goes through the
      weights-only allowlist (:mod:`serankdet.utils.checkpoint`): a file
      cannot run code. ``unsafe_resume=True`` in the config (set by
      ``tools/train.py --unsafe-resume``) unpickles the resumed file fully,
      for a foreign training state the user trusts.
    - :meth:`load_checkpoint` (``load_from``, testing, resuming) is strict by
      default: a checkpoint of another model or variant raises
      :class:`~serankdet.utils.CheckpointMismatchError` listing the
      mismatched keys and shapes, before any weight is copied (no
      half-loaded model).
    - :meth:`save_checkpoint` writes to ``<name>.partial``, flushes it to
      disk and renames it (a failed write, e.g. on a full disk, removes
      it and raises ``OSError`` naming the checkpoint); the checkpoint hook is
      :class:`~serankdet.engine.hooks.AtomicCheckpointHook` (also where a
      config names mmengine's ``CheckpointHook``), which removes old
      checkpoints only after the new one is complete.
    - Every :class:`IRSTDMetric` it builds scores with the model's decision
      rule (``model.decode_head.decision_rule``, see
      :meth:`IRSTDMetric.use_decision_rule`): the metric, the panels and
      the saved masks follow ``model.decode_head.threshold`` alone.
    - ``resume=True`` without ``load_from`` resumes the newest complete
      checkpoint of the work dir (:func:`find_resume_checkpoint`) and
      refuses to start afresh over checkpoints it cannot use.

    - The console shows progress, metrics and where results go; the
      environment report, the config and the hook table go to the log file
      only, unless the config sets ``verbose=True`` (``--verbose``)
      (:mod:`~serankdet.engine.console_filter`).

    - ``sync_bn`` without CUDA is refused (:func:`check_sync_bn`) before
      the model is wrapped, and ``auto_scale_lr`` logs the scaled rates.

    The config is not changed during a run; its text is formatted once.
    """

    def __init__(self, *args, cfg=None, **kwargs):
        if isinstance(cfg, dict):
            cfg = Config(cfg)
        super().__init__(
            *args, cfg=None if cfg is None else _TextCachedConfig.of(cfg),
            **kwargs)

    def wrap_model(self, model_wrapper_cfg, model):
        """mmengine's wrapping (which converts every BatchNorm to SyncBN
        when ``sync_bn`` is set and the run is distributed), after
        :func:`check_sync_bn`."""
        check_sync_bn(self.cfg.get('sync_bn'))
        return super().wrap_model(model_wrapper_cfg, model)

    def scale_lr(self, optim_wrapper, auto_scale_lr=None) -> None:
        """mmengine's linear learning-rate scaling (``auto_scale_lr``),
        then the scaled rates in the log."""
        wrappers = (list(optim_wrapper.values()) if isinstance(
            optim_wrapper, OptimWrapperDict) else [optim_wrapper])

        def rates():
            return [group['lr'] for wrapper in wrappers
                    for group in wrapper.optimizer.param_groups]

        before = rates()
        super().scale_lr(optim_wrapper, auto_scale_lr)
        if auto_scale_lr and auto_scale_lr.get('enable', False):
            changes = dict.fromkeys(
                f'{old:.6g} -> {new:.6g}'
                for old, new in zip(before, rates()))
            self.logger.info('auto_scale_lr: learning rate '
                             f'{", ".join(changes)}')

    def register_default_hooks(self, hooks=None) -> None:
        hooks = dict(hooks or {})
        checkpoint = hooks.get('checkpoint', dict(type='CheckpointHook',
                                                  interval=1))
        if (isinstance(checkpoint, dict)
                and checkpoint.get('type') in _MMENGINE_CHECKPOINT_HOOK):
            hooks['checkpoint'] = dict(checkpoint, type='AtomicCheckpointHook')
        super().register_default_hooks(hooks)

    def build_logger(self, *args, **kwargs):
        logger = super().build_logger(*args, **kwargs)
        quiet_console(logger, verbose=self.cfg.get('verbose', False))
        return logger

    def build_evaluator(self, evaluator):
        evaluator = super().build_evaluator(evaluator)
        model = self.model.module if is_model_wrapper(self.model) \
            else self.model
        rule = getattr(getattr(model, 'decode_head', None), 'decision_rule',
                       None)
        if rule is not None:
            for metric in evaluator.metrics:
                if isinstance(metric, IRSTDMetric):
                    metric.use_decision_rule(rule)
        return evaluator

    def load_or_resume(self) -> None:
        if self._resume and self._load_from is None and not self._has_loaded:
            self._load_from = find_resume_checkpoint(self.work_dir)
            self._resume = self._load_from is not None
        super().load_or_resume()

    def resume(self, filename, *args, **kwargs):
        if not self.cfg.get('unsafe_resume', False):
            return super().resume(filename, *args, **kwargs)
        self.logger.warning(
            f'--unsafe-resume: unpickling {filename} fully; any code it '
            'holds runs now')
        with unsafe_checkpoint_loading():
            return super().resume(filename, *args, **kwargs)

    def load_checkpoint(self, filename, map_location='cpu', strict=True,
                        revise_keys=[(r'^module\.', '')]):
        checkpoint = load_checkpoint_file(filename, map_location=map_location)
        self.call_hook('after_load_checkpoint', checkpoint=checkpoint)
        model = self.model.module if is_model_wrapper(self.model) \
            else self.model
        if strict:
            state = checkpoint.get('state_dict', checkpoint)
            for pattern, replacement in revise_keys:
                state = {re.sub(pattern, replacement, k): v
                         for k, v in state.items()}
            check_state_dict(model.state_dict(), state, filename,
                             type(model).__name__)
        checkpoint = _load_checkpoint_to_model(
            model, checkpoint, strict, revise_keys=revise_keys)
        self._has_loaded = True
        self.logger.info(f'Load checkpoint from {filename}')
        return checkpoint

    def save_checkpoint(self, out_dir, filename, *args, **kwargs):
        partial = filename + PARTIAL_SUFFIX
        written = osp.join(out_dir, partial)
        try:
            super().save_checkpoint(out_dir, partial, *args, **kwargs)
        except OSError as error:
            # e.g. a full disk: no half-written file stays, and the error
            # names the checkpoint (a failed write names no file)
            if is_main_process() and osp.exists(written):
                os.remove(written)
            if error.errno is None or error.filename:
                raise
            raise OSError(error.errno, error.strerror,
                          osp.join(out_dir, filename)) from error
        if is_main_process():  # only the main process writes checkpoints
            # on disk before the rename: a power cut cannot leave the new
            # name on an incomplete file either
            with open(written, 'rb+') as handle:
                os.fsync(handle.fileno())
            os.replace(written, osp.join(out_dir, filename))
