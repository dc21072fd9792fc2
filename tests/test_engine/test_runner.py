"""IRSTDRunner units: the model's decision rule in the metric, strict
loading, atomic saving, the config left as it was given."""
import types

import pytest
import torch
from mmengine.config import Config

from serankdet.engine import IRSTDRunner
from serankdet.evaluation.functional import DecisionRule
from serankdet.utils import CheckpointMismatchError, check_state_dict


def _model(rule):
    model = torch.nn.Module()
    model.decode_head = types.SimpleNamespace(decision_rule=rule)
    return model


def test_runner_gives_every_metric_the_model_rule():
    """The metric scores with the model's rule, whatever the evaluator
    config says about thresholds (it says nothing); a rule given to the
    metric in the config is refused, naming where the rule belongs."""
    rule = DecisionRule(0.4, min_area=2, seed_threshold=0.7)
    runner = IRSTDRunner.__new__(IRSTDRunner)  # only build_evaluator's state
    runner.model = _model(rule)
    evaluator = runner.build_evaluator(dict(type='IRSTDMetric'))
    assert evaluator.metrics[0].decision_rule is rule
    with pytest.raises(ValueError, match=r'decision rule is the model\'s.*'
                       r'model\.decode_head\.threshold'):
        runner.build_evaluator(dict(type='IRSTDMetric',
                                    decision_rule=dict(threshold=0.4)))
    runner.model = torch.nn.Linear(1, 1)  # no head: the metric's default
    metric = runner.build_evaluator(dict(type='IRSTDMetric')).metrics[0]
    assert metric.decision_rule == DecisionRule()


def test_runner_keeps_the_given_config_class(tiny_config, tmp_path):
    """The runner formats its config's text once without changing the
    class of the config it was given."""
    cfg = Config.fromfile(tiny_config)
    cfg.work_dir = str(tmp_path / 'work')
    cfg.experiment_name = cfg.visualizer.name = 'config_class'
    runner = IRSTDRunner.from_cfg(cfg)
    assert type(cfg) is Config
    assert runner.cfg.pretty_text is runner.cfg.pretty_text  # cached
    assert runner.cfg.pretty_text == cfg.pretty_text
    assert runner.cfg.to_dict() == cfg.to_dict()


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
