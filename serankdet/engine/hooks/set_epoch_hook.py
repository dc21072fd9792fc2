"""Tell the model's epoch-dependent parts (warm-up switches) the epoch."""
from mmengine.hooks import Hook
from mmengine.runner import EpochBasedTrainLoop

from serankdet.registry import HOOKS


@HOOKS.register_module()
class SetEpochHook(Hook):
    """Call ``set_epoch(epoch)`` on every submodule of the model that has it.

    Before every training epoch, with the 0-based epoch that starts
    (``runner.epoch``, restored on ``--resume``). Validation after an epoch
    therefore runs in that epoch's state, as the references evaluate. Used
    by MSHNet, whose head and SLS loss switch after their warm-up epochs.

    The epoch only advances in an epoch-based loop: with any other train
    loop the hook raises instead of keeping the model in epoch 0.
    """
    priority = 'NORMAL'

    def before_train(self, runner) -> None:
        if not isinstance(runner.train_loop, EpochBasedTrainLoop):
            raise ValueError(
                'SetEpochHook needs an epoch-based train loop (train_cfg='
                "dict(type='EpochBasedTrainLoop', ...)), got "
                f'{type(runner.train_loop).__name__}: the model\'s warm-up '
                'counts epochs')

    def before_train_epoch(self, runner) -> None:
        for module in runner.model.modules():
            set_epoch = getattr(module, 'set_epoch', None)
            if callable(set_epoch):
                set_epoch(runner.epoch)
