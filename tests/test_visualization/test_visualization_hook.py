"""IRSTDVisualizationHook: panels written per test sample, matched with the
test metric's rule."""
import glob
import os
import os.path as osp
import subprocess
import sys
import textwrap
import types

import cv2
import numpy as np
import torch
from mmengine.structures import PixelData
from mmseg.structures import SegDataSample

from serankdet.evaluation import IRSTDMetric
from serankdet.visualization import IRSTDVisualizationHook, IRSTDVisualizer
from serankdet.visualization.irstd_visualizer import FALSE_ALARM, GAP, HIT
from serankdet.visualization.visualization_hook import matching_rule
from tests.conftest import REPO_ROOT


class _Frames(list):
    """A test set stand-in: its frames' paths, as ``get_data_info`` gives
    them."""

    def get_data_info(self, index):
        return dict(img_path=self[index])


def _runner(tmp_path, metric, paths=('/data/frame_7.png', )):
    return types.SimpleNamespace(
        visualizer=IRSTDVisualizer.get_instance('test_visualization_hook'),
        log_dir=str(tmp_path),
        test_loop=types.SimpleNamespace(
            evaluator=types.SimpleNamespace(metrics=[metric]),
            dataloader=types.SimpleNamespace(dataset=_Frames(paths))))


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
    runner = _runner(tmp_path, metric)
    hook.before_test(runner)
    hook.after_test_iter(runner, 0, data_batch, outputs)
    panel = cv2.imread(str(tmp_path / 'panels' / 'frame_7.png'))[..., ::-1]
    scale = (panel.shape[1] - 2 * GAP) // (3 * 16)  # small frames enlarged
    return tuple(panel[8 * scale, 2 * (16 * scale + GAP) + 8 * scale])


def test_panel_uses_metric_distance(tmp_path):
    assert _panel_colour(tmp_path / 'a', IRSTDMetric()) == FALSE_ALARM
    assert _panel_colour(tmp_path / 'b', IRSTDMetric(distance=5)) == HIT


def test_hook_off_by_default(tmp_path):
    data_batch, outputs = _batch()
    hook, runner = IRSTDVisualizationHook(), _runner(tmp_path, IRSTDMetric())
    hook.before_test(runner)
    hook.after_test_iter(runner, 0, data_batch, outputs)
    assert not (tmp_path / 'panels').exists()


def test_panel_of_a_frame_whose_name_is_not_utf8(tmp_path):
    """``tools/test.py --show-dir`` on a test set holding ``b\\xff.png``
    crashed in cv2.imwrite (segmentation fault): the panel is written
    under the frame's own bytes. Run in a fresh process, as a crash
    would take pytest down."""
    script = textwrap.dedent(f'''
        import os
        from serankdet.evaluation import IRSTDMetric
        from serankdet.visualization import IRSTDVisualizationHook
        from tests.test_visualization.test_visualization_hook import (
            _batch, _runner)
        data_batch, outputs = _batch()
        path = os.fsdecode(b'/data/b\\xff.png')
        outputs[0].set_metainfo(dict(img_path=path))
        hook = IRSTDVisualizationHook(draw=True)
        runner = _runner({str(tmp_path)!r}, IRSTDMetric(), [path])
        hook.before_test(runner)
        hook.after_test_iter(runner, 0, data_batch, outputs)
        ''')
    result = subprocess.run(
        [sys.executable, '-c', script], cwd=REPO_ROOT, capture_output=True,
        text=True, timeout=120,
        env=dict(os.environ, PYTHONPATH=REPO_ROOT, OMP_NUM_THREADS='1'))
    assert result.returncode == 0, result.stderr[-3000:]
    panels = os.fsencode(str(tmp_path / 'panels'))
    assert os.listdir(panels) == [b'b\xff.png']
    panel = cv2.imdecode(np.fromfile(os.fsdecode(panels + b'/b\xff.png'),
                                     np.uint8), cv2.IMREAD_COLOR)
    assert panel.shape[2] == 3 and panel.shape[0] > 16


def test_frames_sharing_a_stem_get_a_panel_each(tmp_path):
    """``tools/test.py --show-dir`` named panels by stem: ``dup.png`` and
    ``dup.tif`` (and ``a/x.png``, ``b/x.png``) shared one panel, the later
    frame's. Each frame is named within the whole test set (also frames
    of later batches)."""
    paths = ['/data/dup.png', '/data/dup.tif', '/data/a/x.png',
             '/data/b/x.png', '/data/one.png']
    hook = IRSTDVisualizationHook(draw=True)
    runner = _runner(tmp_path, IRSTDMetric(), paths)
    hook.before_test(runner)
    for index, path in enumerate(paths):
        data_batch, outputs = _batch()
        outputs[0].set_metainfo(dict(img_path=path))
        hook.after_test_iter(runner, index, data_batch, outputs)
    panels = sorted(
        osp.relpath(path, tmp_path / 'panels')
        for path in glob.glob(str(tmp_path / 'panels' / '**' / '*.png'),
                              recursive=True))
    assert panels == ['a/x.png', 'b/x.png', 'dup.png.png', 'dup.tif.png',
                      'one.png']
