"""The warm-up switch of model parts that change after their first epochs."""
from typing import Optional


class EpochWarmUp:
    """Mixin of a module that behaves differently in its warm-up epochs.

    :meth:`set_epoch` records the training epoch that starts (0-based;
    called by :class:`~serankdet.engine.hooks.SetEpochHook` before every
    training epoch). :attr:`warming_up` is True in epochs
    ``0 .. warm_up_epochs`` (inclusive, as MSHNet's ``epoch > warm_epoch``
    test ends the warm-up) and False outside a training run (no epoch set):
    a model built for testing is in its trained state. The subclass sets
    ``warm_up_epochs`` (-1: no warm-up).
    """
    warm_up_epochs: int = -1
    epoch: Optional[int] = None

    def set_epoch(self, epoch: int) -> None:
        """Record the training epoch that starts (0-based)."""
        self.epoch = epoch

    @property
    def warming_up(self) -> bool:
        return self.epoch is not None and self.epoch <= self.warm_up_epochs
