"""Hook writing result panels during validation and testing."""
import os
import os.path as osp
from typing import Optional

from mmengine.hooks import Hook

from serankdet.evaluation import IRSTDMetric
from serankdet.registry import HOOKS
from .irstd_visualizer import IRSTDVisualizer


def matching_rule(evaluator) -> dict:
    """``distance`` and ``matching`` of the evaluator's IRSTDMetric (the
    metric's defaults when it has none)."""
    metric = next((m for m in evaluator.metrics
                   if isinstance(m, IRSTDMetric)), IRSTDMetric())
    return dict(distance=metric.distance, matching=metric.matching)


@HOOKS.register_module()
class IRSTDVisualizationHook(Hook):
    """Draw ``image | ground truth | prediction`` panels of test samples.

    Targets are matched with the test metric's ``distance`` and
    ``matching``; the prediction is the model's mask, whose threshold the
    runner has checked against the metric's (``check_decision_rule``).

    Args:
        draw (bool): draw at all (off by default; ``tools/test.py
            --show-dir/--show`` switches it on).
        interval (int): draw every ``interval``-th batch.
        show (bool): display panels in a window.
        wait_time (float): seconds a shown panel stays (> 0).
        out_dir (str, optional): folder for ``<image stem>.png`` panels;
            default ``<log_dir>/panels``.
    """
    priority = 'NORMAL'

    def __init__(self, draw: bool = False, interval: int = 1,
                 show: bool = False, wait_time: float = 0.5,
                 out_dir: Optional[str] = None):
        self.draw = draw
        self.interval = interval
        self.show = show
        self.wait_time = wait_time
        self.out_dir = out_dir

    def after_test_iter(self, runner, batch_idx, data_batch=None,
                        outputs=None):
        if not self.draw or not self.every_n_inner_iters(
                batch_idx, self.interval):
            return
        visualizer = runner.visualizer
        if not isinstance(visualizer, IRSTDVisualizer):
            visualizer = IRSTDVisualizer.get_instance('irstd_panels')
        out_dir = self.out_dir or osp.join(runner.log_dir, 'panels')
        os.makedirs(out_dir, exist_ok=True)
        rule = matching_rule(runner.test_loop.evaluator)
        for image, sample in zip(data_batch['inputs'], outputs):
            stem = osp.splitext(osp.basename(sample.img_path))[0]
            visualizer.add_datasample(
                stem, image.cpu().numpy(), sample, show=self.show,
                wait_time=self.wait_time,
                out_file=osp.join(out_dir, f'{stem}.png'),
                max_value=sample.metainfo.get('img_max_value'), **rule)
