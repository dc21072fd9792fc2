"""Iteration timer whose ETA follows the recent speed."""
import numpy as np
from mmengine.hooks import IterTimerHook

from serankdet.registry import HOOKS


@HOOKS.register_module()
class RecentIterTimerHook(IterTimerHook):
    """mmengine's ``IterTimerHook`` with the training ETA computed from the
    median time of the last ``window`` iterations.

    mmengine divides the total time since the start by the iterations done:
    the first iterations (allocator and oneDNN warm-up, data workers
    starting) and every validation pass (its wall time lands in the next
    training iteration) inflate that mean for the rest of the run, so early
    ETAs can be many times too long. The median of a recent window follows
    the current speed and ignores single slow iterations.

    Args:
        window (int): iterations the median is taken over. Defaults to 50.
    """

    def __init__(self, window: int = 50):
        super().__init__()
        if window < 1:
            raise ValueError(f'RecentIterTimerHook: window must be >= 1, '
                             f'got {window}')
        self.window = window

    def _after_iter(self, runner, batch_idx, data_batch=None, outputs=None,
                    mode='train'):
        super()._after_iter(runner, batch_idx, data_batch, outputs, mode)
        if mode != 'train':
            return
        times, _ = runner.message_hub.get_scalar('train/time').data
        recent = float(np.median(times[-self.window:]))
        runner.message_hub.update_info(
            'eta', recent * (runner.max_iters - runner.iter - 1))
