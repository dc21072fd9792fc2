"""The toolbox's Runner: mmengine's, with trusted resume, strict loading and
atomic saving."""
import os
import os.path as osp
import re
from typing import Dict, List

from mmengine.dist import is_main_process
from mmengine.model import is_model_wrapper
from mmengine.runner import Runner
from mmengine.runner.checkpoint import (_load_checkpoint,
                                        _load_checkpoint_to_model)

from serankdet.registry import RUNNERS
from serankdet.utils.checkpoint import trusted_checkpoint_loading


class CheckpointMismatchError(ValueError):
    """A checkpoint's weights do not fit the model (other model/variant)."""


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


@RUNNERS.register_module()
class IRSTDRunner(Runner):
    """mmengine ``Runner`` with three changes.

    - :meth:`resume` may unpickle the whole training state (optimizer,
      message hub) of the toolbox's own runs; every other load goes through
      the weights-only allowlist (see :mod:`serankdet.utils.checkpoint`).
    - :meth:`load_checkpoint` (``load_from``, testing, resuming) is strict by
      default: a checkpoint of another model or variant raises
      :class:`CheckpointMismatchError` listing the mismatched keys and
      shapes, before any weight is copied (no half-loaded model).
    - :meth:`save_checkpoint` writes to a temporary file and renames it, so
      a run killed while saving keeps the previous checkpoint intact.
    """

    def resume(self, filename, *args, **kwargs):
        with trusted_checkpoint_loading():
            return super().resume(filename, *args, **kwargs)

    def load_checkpoint(self, filename, map_location='cpu', strict=True,
                        revise_keys=[(r'^module\.', '')]):
        checkpoint = _load_checkpoint(filename, map_location=map_location)
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
        partial = f'{filename}.partial'
        super().save_checkpoint(out_dir, partial, *args, **kwargs)
        if is_main_process():  # only the main process writes checkpoints
            os.replace(osp.join(out_dir, partial), osp.join(out_dir, filename))
