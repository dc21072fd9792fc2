"""Stop training at the first NaN or infinite loss."""
import math
import os.path as osp

import torch

from mmengine.hooks import Hook

from serankdet.registry import HOOKS


class NonFiniteLossError(FloatingPointError):
    """The training loss became NaN or infinite."""


@HOOKS.register_module()
class NonFiniteLossHook(Hook):
    """Raise :class:`NonFiniteLossError` when ``outputs['loss']`` is not
    finite, naming the iteration and the last good checkpoint.

    Once the loss is NaN the weights are NaN after the optimizer step and
    every later checkpoint would be worthless. The hook runs before the
    checkpoint and logger hooks (priority ``VERY_HIGH``), so the iteration
    that diverged is never saved; the checkpoints already on disk are kept.
    """

    priority = 'VERY_HIGH'

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None) -> None:
        if not outputs or 'loss' not in outputs:
            return
        loss = float(torch.as_tensor(outputs['loss']).detach())
        if math.isfinite(loss):
            return
        last = osp.join(runner.work_dir, 'last_checkpoint')
        if osp.isfile(last):
            with open(last) as handle:
                kept = f'the last good checkpoint is {handle.read().strip()}'
        else:
            kept = 'no checkpoint had been saved yet'
        parts = ', '.join(f'{key}={float(torch.as_tensor(value).detach()):.4g}'
                          for key, value in outputs.items()
                          if 'loss' in key and key != 'loss')
        raise NonFiniteLossError(
            f'the training loss is {loss} at iteration {runner.iter + 1} '
            f'(epoch {runner.epoch + 1}){f" ({parts})" if parts else ""}; '
            f'training stopped and {kept}. Lower the learning rate '
            '(optim_wrapper.optimizer.lr), add gradient clipping '
            '(optim_wrapper.clip_grad=dict(max_norm=...)) or check the data.')
