"""The toolbox's Runner: mmengine's, with safe resume, strict loading and
atomic saving."""
import os
import os.path as osp
import re
from typing import Dict, List

from mmengine.config import Config
from mmengine.dist import is_main_process
from mmengine.hooks import CheckpointHook
from mmengine.model import is_model_wrapper
from mmengine.runner import Runner
from mmengine.runner.checkpoint import _load_checkpoint_to_model

from serankdet.evaluation import IRSTDMetric
from serankdet.registry import RUNNERS
from serankdet.utils.checkpoint import (load_checkpoint_file,
                                        unsafe_checkpoint_loading)
from .console_filter import quiet_console
from .hooks.checkpoint_hook import PARTIAL_SUFFIX
from .resume import find_resume_checkpoint

#: Names under which a config can ask for mmengine's CheckpointHook.
_MMENGINE_CHECKPOINT_HOOK = ('CheckpointHook', 'mmengine.CheckpointHook',
                             CheckpointHook)


class CheckpointMismatchError(ValueError):
    """A checkpoint's weights do not fit the model (other model/variant)."""


class DecisionRuleMismatchError(ValueError):
    """The metric scores other pixels than the model's predicted masks."""


def check_decision_rule(model, evaluator) -> None:
    """Raise :class:`DecisionRuleMismatchError` when an
    :class:`~serankdet.evaluation.IRSTDMetric` of ``evaluator`` thresholds
    at another probability than ``model.decode_head.threshold``, which
    makes the predicted masks (``pred_sem_seg``: panels, saved masks,
    ``tools/infer.py``) differ from the pixels that are scored."""
    head = getattr(model, 'decode_head', None)
    threshold = getattr(head, 'threshold', None)
    if threshold is None:
        return
    for metric in evaluator.metrics:
        if isinstance(metric, IRSTDMetric) and metric.threshold != threshold:
            raise DecisionRuleMismatchError(
                f'the metric thresholds at {metric.threshold} but '
                f'model.decode_head.threshold is {threshold}: the predicted '
                'masks (panels, saved masks) would not be the pixels that '
                'are scored. Set the same value in both (e.g. --cfg-options '
                f'model.decode_head.threshold={metric.threshold}).')


def check_state_dict(model_state: Dict, checkpoint_state: Dict,
                     filename: str, model_name: str = 'the model',
                     max_listed: int = 5) -> None:
    """Raise :class:`CheckpointMismatchError` unless both state dicts have
    the same keys with the same shapes.

    The message counts the missing keys, unexpected keys and shape
    mismatches and lists the first ``max_listed`` of each.
    """
    missing = [k for k in model_state if k not in checkpoint_state]
    unexpected = [k for k in checkpoint_state if k not in model_state]
    shapes = [k for k in model_state if k in checkpoint_state
              and hasattr(checkpoint_state[k], 'shape')
              and tuple(checkpoint_state[k].shape) != tuple(
                  model_state[k].shape)]
    if not (missing or unexpected or shapes):
        return

    def listing(title: str, keys: List[str], describe) -> str:
        if not keys:
            return ''
        lines = [f'\n  {len(keys)} {title}:']
        lines += [f'    {describe(k)}' for k in keys[:max_listed]]
        if len(keys) > max_listed:
            lines.append(f'    ... and {len(keys) - max_listed} more')
        return '\n'.join(lines)

    def shape(state, key):
        return 'x'.join(map(str, state[key].shape)) or 'scalar'

    raise CheckpointMismatchError(
        f'checkpoint {filename} does not fit {model_name} (saved from '
        'another model or variant?); nothing was loaded.' +
        listing('weights of the model missing from the checkpoint', missing,
                lambda k: f'{k} ({shape(model_state, k)})') +
        listing('checkpoint weights the model does not have', unexpected,
                lambda k: f'{k} ({shape(checkpoint_state, k)})') +
        listing('shape mismatches (checkpoint vs model)', shapes,
                lambda k: f'{k}: {shape(checkpoint_state, k)} vs '
                f'{shape(model_state, k)}') +
        '\nUse the config the checkpoint was trained with, or convert '
        'foreign weights with tools/model_converters/official2serankdet.py.')


class _TextCachedConfig(Config):
    """A run's config whose text is formatted once: mmengine stores
    ``cfg.pretty_text`` in every checkpoint and formats it with yapf each
    time (about a second for a large config)."""

    @property
    def pretty_text(self) -> str:
        if '_pretty_text' not in self.__dict__:
            object.__setattr__(self, '_pretty_text', super().pretty_text)
        return self.__dict__['_pretty_text']


@RUNNERS.register_module()
class IRSTDRunner(Runner):
    """mmengine ``Runner`` with six changes.

    - Every checkpoint load, :meth:`resume` included, goes through the
      weights-only allowlist (:mod:`serankdet.utils.checkpoint`): a file
      cannot run code. ``unsafe_resume=True`` in the config (set by
      ``tools/train.py --unsafe-resume``) unpickles the resumed file fully,
      for a foreign training state the user trusts.
    - :meth:`load_checkpoint` (``load_from``, testing, resuming) is strict by
      default: a checkpoint of another model or variant raises
      :class:`CheckpointMismatchError` listing the mismatched keys and
      shapes, before any weight is copied (no half-loaded model).
    - :meth:`save_checkpoint` writes to ``<name>.partial``, flushes it to
      disk and renames it; the checkpoint hook is
      :class:`~serankdet.engine.hooks.AtomicCheckpointHook` (also where a
      config names mmengine's ``CheckpointHook``), which removes old
      checkpoints only after the new one is complete.
    - Evaluators are checked against the model: an :class:`IRSTDMetric`
      must threshold where the model's head does
      (:func:`check_decision_rule`).
    - ``resume=True`` without ``load_from`` resumes the newest complete
      checkpoint of the work dir (:func:`find_resume_checkpoint`) and
      refuses to start afresh over checkpoints it cannot use.

    - The console shows progress, metrics and where results go; the
      environment report, the config and the hook table go to the log file
      only, unless the config sets ``verbose=True`` (``--verbose``)
      (:mod:`~serankdet.engine.console_filter`).

    The config is not changed during a run; its text is formatted once.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Config.__setattr__ writes config keys: set the class directly
        object.__setattr__(self.cfg, '__class__', _TextCachedConfig)

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
        check_decision_rule(model, evaluator)
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
        super().save_checkpoint(out_dir, partial, *args, **kwargs)
        if is_main_process():  # only the main process writes checkpoints
            written = osp.join(out_dir, partial)
            # on disk before the rename: a power cut cannot leave the new
            # name on an incomplete file either
            with open(written, 'rb+') as handle:
                os.fsync(handle.fileno())
            os.replace(written, osp.join(out_dir, filename))
