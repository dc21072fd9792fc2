"""RecentIterTimerHook: the ETA follows the recent iteration time."""
import types

import mmengine.hooks.iter_timer_hook as timer_module
import pytest
from mmengine.hooks import IterTimerHook
from mmengine.logging import MessageHub

from serankdet.engine.hooks import RecentIterTimerHook


def _run(hook, times, max_iters=100):
    """Feed ``times`` as the measured durations of iterations 0, 1, ...
    (mmengine's timer module reads a fake clock)."""
    hub = MessageHub.get_instance(f'timer-test-{id(hook)}')
    runner = types.SimpleNamespace(message_hub=hub, max_iters=max_iters,
                                   iter=0)
    hook.before_train(runner)
    clock = [0.0]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(timer_module, 'time',
                      types.SimpleNamespace(time=lambda: clock[0]))
        hook.before_train_epoch(runner)
        for step, duration in enumerate(times):
            runner.iter = step
            hook.before_train_iter(runner, step)
            clock[0] += duration
            hook.after_train_iter(runner, step)
    return hub.get_info('eta')


def test_eta_ignores_warm_up_and_validation_spikes():
    # a 300 s first iteration (warm-up) and a 120 s spike (a validation
    # pass landing in a training iteration), 2 s otherwise
    times = [300.0] + [2.0] * 30 + [120.0] + [2.0] * 8
    remaining = 100 - len(times)
    assert _run(RecentIterTimerHook(window=20), times) == pytest.approx(
        2.0 * remaining)
    # mmengine's mean over all iterations: about 6x too long here
    stock = _run(IterTimerHook(), times)
    assert stock == pytest.approx(sum(times) / len(times) * remaining)
    assert stock > 5 * 2.0 * remaining


def test_window_follows_a_slower_phase():
    times = [1.0] * 50 + [4.0] * 30
    assert _run(RecentIterTimerHook(window=20), times) == pytest.approx(
        4.0 * (100 - 80))


def test_window_must_be_positive():
    with pytest.raises(ValueError, match='window must be >= 1, got 0'):
        RecentIterTimerHook(window=0)
