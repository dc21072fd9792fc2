"""IRSTDVisualizationHook: panels written per test sample, matched with the
test metric's rule."""
import types

import cv2
import torch
from mmengine.structures import PixelData
from mmseg.structures import SegDataSample

from serankdet.evaluation import IRSTDMetric
from serankdet.visualization import IRSTDVisualizationHook, IRSTDVisualizer
from serankdet.visualization.irstd_visualizer import FALSE_ALARM, GAP, HIT
from serankdet.visualization.visualization_hook import matching_rule


def _runner(tmp_path, metric):
    return types.SimpleNamespace(
        visualizer=IRSTDVisualizer.get_instance('test_visualization_hook'),
        log_dir=str(tmp_path),
        test_loop=types.SimpleNamespace(
            evaluator=types.SimpleNamespace(metrics=[metric])))


def _batch():
    gt = torch.zeros(1, 16, 16, dtype=torch.long)
    pred = torch.zeros(1, 16, 16, dtype=torch.long)
    gt[0, 8, 4], pred[0, 8, 8] = 1, 1   # centroids 4 px apart
    sample = SegDataSample(metainfo=dict(img_path='/data/frame_7.png',
                                         img_max_value=255))
    sample.gt_sem_seg = PixelData(data=gt)
    sample.pred_sem_seg = PixelData(data=pred)
    inputs = [torch.full((1, 16, 16), 60, dtype=torch.uint8)]
    return dict(inputs=inputs), [sample]


def test_matching_rule_reads_the_metric():
    evaluator = types.SimpleNamespace(
        metrics=[object(), IRSTDMetric(distance=5, matching='greedy')])
    assert matching_rule(evaluator) == dict(distance=5.0, matching='greedy')
    assert matching_rule(types.SimpleNamespace(metrics=[])) == dict(
        distance=3.0, matching='hungarian')


def _panel_colour(tmp_path, metric):
    hook = IRSTDVisualizationHook(draw=True)
    data_batch, outputs = _batch()
    hook.after_test_iter(_runner(tmp_path, metric), 0, data_batch, outputs)
    panel = cv2.imread(str(tmp_path / 'panels' / 'frame_7.png'))[..., ::-1]
    scale = (panel.shape[1] - 2 * GAP) // (3 * 16)  # small frames enlarged
    return tuple(panel[8 * scale, 2 * (16 * scale + GAP) + 8 * scale])


def test_panel_uses_metric_distance(tmp_path):
    assert _panel_colour(tmp_path / 'a', IRSTDMetric()) == FALSE_ALARM
    assert _panel_colour(tmp_path / 'b', IRSTDMetric(distance=5)) == HIT


def test_hook_off_by_default(tmp_path):
    data_batch, outputs = _batch()
    IRSTDVisualizationHook().after_test_iter(
        _runner(tmp_path, IRSTDMetric()), 0, data_batch, outputs)
    assert not (tmp_path / 'panels').exists()
