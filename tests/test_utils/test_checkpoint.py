"""The checkpoint loader reads weights and training states and never runs
code from the file."""
import os.path as osp
import pickle

import numpy as np
import pytest
import torch
from mmengine.logging.history_buffer import HistoryBuffer

from serankdet.utils import (CheckpointReadError, UnsafeCheckpointError,
                             load_checkpoint_file, unsafe_checkpoint_loading)
from serankdet.utils.checkpoint import SAFE_GLOBALS, history_buffer_method
from tests.payloads import PAYLOADS, write_hostile_checkpoint


def _runner_like_checkpoint():
    buffer = HistoryBuffer()
    buffer.update(0.5)
    return dict(
        meta=dict(epoch=1, iter=10, seed=np.int64(3)),
        message_hub=dict(log_scalars={'train/loss': buffer},
                         runtime_info=dict(best_score=np.float64(0.7))),
        state_dict={'w': torch.ones(2)},
        rng_states=[dict(numpy=np.random.RandomState(0).get_state())],
        history=np.array([0.1, 0.2], dtype=np.float32))


def test_stock_torch_load_refuses_runner_checkpoints(tmp_path):
    path = tmp_path / 'ckpt.pth'
    torch.save(_runner_like_checkpoint(), path)
    with pytest.raises(pickle.UnpicklingError, match='Weights only load failed'):
        torch.load(path, weights_only=True)


def test_safe_loader_reads_runner_checkpoints(tmp_path):
    path = tmp_path / 'ckpt.pth'
    torch.save(_runner_like_checkpoint(), path)
    loaded = load_checkpoint_file(str(path))
    buffer = loaded['message_hub']['log_scalars']['train/loss']
    assert buffer.current() == 0.5 and buffer.mean() == 0.5
    assert loaded['message_hub']['runtime_info']['best_score'] == 0.7
    assert torch.equal(loaded['state_dict']['w'], torch.ones(2))
    state = loaded['rng_states'][0]['numpy']
    assert state[0] == 'MT19937' and state[1].dtype == np.uint32


def test_allowlist_holds_no_callable_that_reaches_code():
    names = {entry[1] if isinstance(entry, tuple) else
             f'{entry.__module__}.{entry.__qualname__}'
             for entry in SAFE_GLOBALS}
    assert 'builtins.getattr' in names  # bound to history_buffer_method
    bound = dict((name, obj) for obj, name in
                 (e for e in SAFE_GLOBALS if isinstance(e, tuple)))
    assert bound['builtins.getattr'] is history_buffer_method
    for forbidden in ('builtins.eval', 'builtins.exec', 'builtins.apply',
                      'functools.partial', 'builtins.__import__'):
        assert forbidden not in names
    assert not any(obj is getattr for obj in SAFE_GLOBALS)
    assert all(isinstance(e, tuple) or isinstance(e, type)
               for e in SAFE_GLOBALS)


def test_history_buffer_method_fetches_only_statistics():
    assert history_buffer_method(HistoryBuffer, 'mean') is HistoryBuffer.mean
    with pytest.raises(UnsafeCheckpointError,
                       match=r"getattr\(HistoryBuffer, '__init__'\)"):
        history_buffer_method(HistoryBuffer, '__init__')
    with pytest.raises(UnsafeCheckpointError, match=r"getattr\(dict, 'get'"):
        history_buffer_method(dict, 'get')


@pytest.mark.parametrize('kind', sorted(PAYLOADS))
def test_hostile_checkpoint_is_refused_and_never_runs(tmp_path, kind):
    path, marker = write_hostile_checkpoint(str(tmp_path), kind)
    with pytest.raises(UnsafeCheckpointError) as error:
        load_checkpoint_file(path)
    message = str(error.value)
    assert message.startswith(f'checkpoint {path} was not loaded: it refers '
                              f'to {PAYLOADS[kind][1]}')
    assert '\n' not in message
    assert not osp.exists(marker)


def test_hostile_checkpoint_runs_only_when_unsafe_loading_is_asked(tmp_path):
    """The payloads are real: full unpickling runs them."""
    path, marker = write_hostile_checkpoint(str(tmp_path), 'reduce')
    with unsafe_checkpoint_loading():
        load_checkpoint_file(path)
    assert osp.exists(marker)


@pytest.mark.parametrize('content, reason', [
    (None, 'RuntimeError: PytorchStreamReader failed reading zip archive'),
    (b'', 'EOFError'),
])
def test_damaged_checkpoint_is_reported(tmp_path, content, reason):
    good = tmp_path / 'good.pth'
    torch.save(_runner_like_checkpoint(), good)
    data = good.read_bytes()
    path = tmp_path / 'cut.pth'
    path.write_bytes(data[:len(data) // 2] if content is None else content)
    with pytest.raises(CheckpointReadError,
                       match=f'checkpoint {path} could not be read '
                       rf'\({reason}.*incomplete'):
        load_checkpoint_file(str(path))
