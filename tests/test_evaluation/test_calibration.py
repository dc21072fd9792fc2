"""Operating points chosen on hand-made curves; the calibration sidecar."""
import json

import pytest
from mmengine.config import Config

from serankdet.evaluation import DecisionRule
from serankdet.evaluation.calibration import (apply_calibration,
                                              calibration_file,
                                              load_calibration,
                                              pd_at_fixed_false_alarms,
                                              rule_options, save_calibration,
                                              select_operating_point)

pytestmark = pytest.mark.smoke

#: Pd falls and Fa (x 1e-6) falls as the threshold rises.
CURVES = dict(threshold=[0.1, 0.2, 0.3, 0.4, 0.5],
              Pd=[1.0, 1.0, 0.8, 0.8, 0.5],
              Fa=[50.0, 20.0, 20.0, 5.0, 0.0],
              fa_objects_per_image=[2.0, 1.0, 1.0, 0.5, 0.0],
              IoU=[0.3, 0.4, 0.5, 0.45, 0.2])


@pytest.mark.parametrize('criterion, index', [
    (dict(max_fa=20), 1),     # Pd 1 at 0.2 (0.3 has Pd 0.8)
    (dict(max_fa=10), 3),     # Pd 0.8 at 0.4
    (dict(max_fa=0), 4),
    (dict(max_false_per_frame=1), 1),
    (dict(max_false_per_frame=0.5), 3),
    (dict(min_pd=0.8), 3),    # lowest Fa with Pd >= 0.8
    (dict(min_pd=1.0), 1),    # 0.1 and 0.2 reach it; 0.2 has less Fa
    (dict(min_pd=0.9), 1),
])
def test_select_operating_point(criterion, index):
    assert select_operating_point(CURVES, **criterion) == index


def test_select_operating_point_ties_and_none():
    curves = dict(threshold=[0.3, 0.4, 0.5], Pd=[0.5, 0.5, 0.5],
                  Fa=[3.0, 3.0, 1.0], fa_objects_per_image=[1, 1, 1],
                  IoU=[0.2, 0.4, 0.3])
    assert select_operating_point(curves, max_fa=5) == 2  # lower Fa
    curves['Fa'] = [3.0, 3.0, 3.0]
    assert select_operating_point(curves, max_fa=5) == 1  # higher IoU
    curves['IoU'] = [0.4, 0.4, 0.4]
    assert select_operating_point(curves, max_fa=5) == 0  # lower threshold
    assert select_operating_point(curves, max_fa=2) is None
    assert select_operating_point(curves, min_pd=0.6) is None
    with pytest.raises(ValueError, match='exactly one of'):
        select_operating_point(curves, max_fa=1, min_pd=0.5)
    with pytest.raises(ValueError, match='exactly one of'):
        select_operating_point(curves)


def test_pd_at_fixed_false_alarms():
    assert pd_at_fixed_false_alarms(CURVES) == {
        'Pd@Fa=1e-6': 0.5, 'Pd@Fa=1e-5': 0.8,
        'Pd@fa_objects_per_image=0.1': 0.5}
    never = dict(CURVES, Fa=[50.0] * 5, fa_objects_per_image=[2.0] * 5)
    assert set(pd_at_fixed_false_alarms(never).values()) == {0.0}


def _config():
    return Config(dict(model=dict(decode_head=dict(type='IRSTDHead',
                                                   threshold=0.5))))


def test_sidecar_round_trip_and_application(tmp_path):
    checkpoint = tmp_path / 'best.pth'
    checkpoint.write_bytes(b'weights')
    cfg = _config()
    assert apply_calibration(cfg, str(checkpoint)) is None  # no sidecar
    rule = DecisionRule(0.35, min_area=2)
    path = save_calibration(str(checkpoint), rule, split='val')
    assert path == calibration_file(str(checkpoint)) == str(checkpoint) + \
        '.decision.json'
    assert not (tmp_path / 'best.pth.decision.json.partial').exists()
    assert checkpoint.read_bytes() == b'weights'  # never changed
    assert load_calibration(str(checkpoint)) == (rule, path)
    message = apply_calibration(cfg, str(checkpoint))
    assert message == (f'using calibrated threshold 0.35, min_area 2 from '
                       f'{path}')
    assert cfg.model.decode_head == dict(
        type='IRSTDHead', threshold=0.35, min_area=2, max_area=None,
        seed_threshold=None)
    # an explicit rule setting wins, and the log says the sidecar is unused
    cfg = _config()
    overrides = rule_options({'model.decode_head.threshold': 0.4,
                              'model.backbone.channels': 4})
    assert overrides == ['model.decode_head.threshold']
    assert apply_calibration(cfg, str(checkpoint), overrides) == (
        f'not using calibrated threshold 0.35 from {path}: '
        'model.decode_head.threshold given')
    assert cfg.model.decode_head.threshold == 0.5


def test_sidecar_of_another_checkpoint_or_damaged_is_refused(tmp_path):
    checkpoint = tmp_path / 'best.pth'
    checkpoint.write_bytes(b'weights')
    path = save_calibration(str(checkpoint), DecisionRule(0.3))
    checkpoint.write_bytes(b'retrained weights')
    with pytest.raises(ValueError, match='written for another best.pth'):
        load_calibration(str(checkpoint))
    with open(path) as handle:
        content = json.load(handle)
    content['decision_rule']['threshold'] = 1.5
    with open(path, 'w') as handle:
        json.dump(content, handle)
    with pytest.raises(ValueError, match='damaged .*threshold is a prob'):
        load_calibration(str(checkpoint))
