"""IRSTDRunner units: decision-rule check, strict loading, atomic saving."""
import types

import pytest
import torch

from serankdet.engine import IRSTDRunner
from serankdet.engine.runner import (CheckpointMismatchError,
                                     DecisionRuleMismatchError,
                                     check_decision_rule, check_state_dict)
from serankdet.evaluation import IRSTDMetric


def _model(threshold):
    model = torch.nn.Module()
    model.decode_head = types.SimpleNamespace(threshold=threshold)
    return model


def _evaluator(*metrics):
    return types.SimpleNamespace(metrics=list(metrics))


def test_decision_rule_mismatch_names_both_values():
    with pytest.raises(DecisionRuleMismatchError,
                       match=r'thresholds at 0\.4 but model\.decode_head\.'
                       r'threshold is 0\.5.*decode_head\.threshold=0\.4'):
        check_decision_rule(_model(0.5), _evaluator(IRSTDMetric(threshold=0.4)))


def test_decision_rule_agreeing_or_not_applicable():
    check_decision_rule(_model(0.5), _evaluator(IRSTDMetric()))
    check_decision_rule(_model(0.3), _evaluator(object()))  # other metric
    check_decision_rule(torch.nn.Linear(1, 1),
                        _evaluator(IRSTDMetric(threshold=0.4)))  # no head


def test_runner_checks_every_evaluator_it_builds():
    runner = IRSTDRunner.__new__(IRSTDRunner)  # only build_evaluator's state
    runner.model = _model(0.5)
    evaluator = runner.build_evaluator(dict(type='IRSTDMetric'))
    assert isinstance(evaluator.metrics[0], IRSTDMetric)
    with pytest.raises(DecisionRuleMismatchError):
        runner.build_evaluator(dict(type='IRSTDMetric', threshold=0.7))


def test_check_state_dict_lists_what_differs():
    model = {'a': torch.zeros(2, 3), 'b': torch.zeros(1)}
    ckpt = {'a': torch.zeros(3, 3), 'c': torch.zeros(4)}
    with pytest.raises(CheckpointMismatchError) as info:
        check_state_dict(model, ckpt, 'x.pth', 'Net')
    message = str(info.value)
    assert 'checkpoint x.pth does not fit Net' in message
    assert '1 weights of the model missing from the checkpoint:\n    b (1)' \
        in message
    assert '1 checkpoint weights the model does not have:\n    c (4)' \
        in message
    assert 'a: 3x3 vs 2x3' in message
    check_state_dict(model, dict(model), 'x.pth')  # identical: no error


def test_save_checkpoint_is_renamed_into_place(tmp_path, monkeypatch):
    """The file appears under its name only complete: written as
    ``.partial`` by mmengine, fsynced, renamed."""
    from mmengine.runner import Runner
    written = []

    def fake_save(self, out_dir, filename, *args, **kwargs):
        written.append(filename)
        (tmp_path / filename).write_bytes(b'weights')

    monkeypatch.setattr(Runner, 'save_checkpoint', fake_save)
    runner = IRSTDRunner.__new__(IRSTDRunner)
    runner.save_checkpoint(str(tmp_path), 'epoch_1.pth')
    assert written == ['epoch_1.pth.partial']
    assert sorted(p.name for p in tmp_path.iterdir()) == ['epoch_1.pth']
    assert (tmp_path / 'epoch_1.pth').read_bytes() == b'weights'
