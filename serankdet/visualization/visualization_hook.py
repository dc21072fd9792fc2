"""Hook writing result panels during validation and testing."""
import os.path as osp
from typing import Optional

from mmengine.hooks import Hook

from serankdet.evaluation import IRSTDMetric
from serankdet.registry import HOOKS
from serankdet.utils import output_names
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
    ``matching``; the prediction is the model's mask (``pred_sem_seg``, of
    the model's decision rule, with which the runner's metric scores too).

    Args:
        draw (bool): draw at all (off by default; ``tools/test.py
            --show-dir/--show`` switches it on).
        interval (int): draw every ``interval``-th batch.
        show (bool): display panels in a window.
        wait_time (float): seconds a shown panel stays (> 0).
        out_dir (str, optional): folder for the ``<name>.png`` panels;
            default ``<log_dir>/panels``. A frame's name is its path
            relative to the deepest folder holding every test frame,
            without its extension unless two frames differ only in theirs
            (``dup.png`` and ``dup.tif`` get two panels; see
            :func:`~serankdet.utils.output_names`).
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
        self._names = {}

    def before_test(self, runner) -> None:
        """Name the panels of the test set's frames, all at once so that
        no two frames share one (also under DDP, each process naming the
        whole set alike)."""
        if not self.draw:
            return
        dataset = runner.test_loop.dataloader.dataset
        self._names = output_names(
            dataset.get_data_info(index)['img_path']
            for index in range(len(dataset)))

    def after_test_iter(self, runner, batch_idx, data_batch=None,
                        outputs=None):
        if not self.draw or not self.every_n_inner_iters(
                batch_idx, self.interval):
            return
        visualizer = runner.visualizer
        if not isinstance(visualizer, IRSTDVisualizer):
            visualizer = IRSTDVisualizer.get_instance('irstd_panels')
        out_dir = self.out_dir or osp.join(runner.log_dir, 'panels')
        rule = matching_rule(runner.test_loop.evaluator)
        for image, sample in zip(data_batch['inputs'], outputs):
            name = self._names[sample.img_path]
            visualizer.add_datasample(
                name, image.cpu().numpy(), sample, show=self.show,
                wait_time=self.wait_time,
                out_file=osp.join(out_dir, f'{name}.png'),
                max_value=sample.metainfo.get('img_max_value'), **rule)
