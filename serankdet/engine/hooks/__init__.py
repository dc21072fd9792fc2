from .checkpoint_hook import AtomicCheckpointHook
from .hard_negative_mining_hook import (HardNegativeMiningHook,
                                        false_alarm_centroids)
from .iter_timer_hook import RecentIterTimerHook
from .nonfinite_loss_hook import NonFiniteLossError, NonFiniteLossHook
from .rng_state_hook import RNGStateHook
from .set_epoch_hook import SetEpochHook

__all__ = ['AtomicCheckpointHook', 'HardNegativeMiningHook',
           'false_alarm_centroids', 'NonFiniteLossError', 'NonFiniteLossHook',
           'RecentIterTimerHook', 'RNGStateHook', 'SetEpochHook']
