from .checkpoint_hook import AtomicCheckpointHook
from .iter_timer_hook import RecentIterTimerHook
from .nonfinite_loss_hook import NonFiniteLossError, NonFiniteLossHook
from .rng_state_hook import RNGStateHook
from .set_epoch_hook import SetEpochHook

__all__ = ['AtomicCheckpointHook', 'NonFiniteLossError', 'NonFiniteLossHook',
           'RecentIterTimerHook', 'RNGStateHook', 'SetEpochHook']
