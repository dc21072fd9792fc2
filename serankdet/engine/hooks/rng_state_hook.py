"""Random number generator states in checkpoints, for exact resuming."""
import random

import numpy as np
import torch
from mmengine.dist import all_gather_object, get_dist_info, is_distributed
from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmengine.runner import IterBasedTrainLoop

from serankdet.registry import HOOKS


def get_rng_states() -> dict:
    """States of Python's, numpy's and torch's global generators."""
    states = dict(python=random.getstate(), numpy=np.random.get_state(),
                  torch=torch.get_rng_state())
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        states['cuda'] = torch.cuda.get_rng_state_all()
    return states


def set_rng_states(states: dict) -> None:
    """Restore states returned by :func:`get_rng_states`."""
    random.setstate(states['python'])
    np.random.set_state(states['numpy'])
    torch.set_rng_state(states['torch'])
    if 'cuda' in states and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(states['cuda'])


class _RestoreAfterSkip:
    """Stand-in for an iteration-based loop's data iterator that restores
    the saved generator states once the resume fast-forward is done."""

    def __init__(self, loop, skip: int, states: dict):
        self.loop, self.skip, self.states = loop, skip, states
        self.iterator = loop.dataloader_iterator

    def __next__(self):
        batch = next(self.iterator)
        self.skip -= 1
        if self.skip == 0:
            set_rng_states(self.states)
            self.loop.dataloader_iterator = self.iterator
        return batch

    def __getattr__(self, name):
        return getattr(self.iterator, name)


@HOOKS.register_module()
class RNGStateHook(Hook):
    """Save every process's generator states in each checkpoint and restore
    them on resume, so an interrupted run continues with the random numbers
    (augmentation, dropout) of an uninterrupted one.

    The Python, numpy and torch (and CUDA) generators of each rank are stored
    under ``checkpoint['rng_states']`` (a list indexed by rank). On resume
    they are restored where the uninterrupted run stood when it saved:

    * epoch-based loops restart at the saved epoch boundary, so the states
      are set right after loading;
    * mmengine's iteration-based loop fast-forwards its data iterator by
      re-loading the ``iter`` batches already trained (which draws from the
      generators again), so the states are set after that fast-forward,
      before the first new batch is loaded.

    A resume with another number of processes cannot be exact: the states
    are then left as seeded, with a warning.
    """

    priority = 'VERY_HIGH'

    def __init__(self):
        self._pending = None
        self._gathered = None

    def _gather(self) -> None:
        # Only the main process saves (before_save_checkpoint runs there
        # alone), so every rank sends its states after each iteration and
        # epoch, before the checkpoint hook (lower priority) saves.
        if is_distributed():
            self._gathered = all_gather_object(get_rng_states())

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None) -> None:
        self._gather()

    def after_train_epoch(self, runner) -> None:
        self._gather()

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        checkpoint['rng_states'] = self._gathered or [get_rng_states()]

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        if not getattr(runner, '_resume', False):
            return  # load_from (fine-tuning, testing): weights only
        saved = checkpoint.get('rng_states')
        rank, world_size = get_dist_info()
        if saved is None:
            print_log('the checkpoint holds no generator states: the resumed '
                      'run draws other random numbers than an uninterrupted '
                      'one', logger='current', level=30)
            return
        if len(saved) != world_size:
            print_log(f'the checkpoint was saved by {len(saved)} processes, '
                      f'this run has {world_size}: generator states not '
                      'restored, the resumed run is not exactly '
                      'reproducible', logger='current', level=30)
            return
        set_rng_states(saved[rank])
        self._pending = saved[rank]

    def before_train_epoch(self, runner) -> None:
        states, self._pending = self._pending, None
        loop = runner.train_loop
        if states is not None and isinstance(loop, IterBasedTrainLoop) \
                and loop.iter > 0:
            loop.dataloader_iterator = _RestoreAfterSkip(
                loop, loop.iter, states)
