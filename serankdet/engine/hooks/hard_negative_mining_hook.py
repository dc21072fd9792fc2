"""Find where the model fires on target-free training frames."""
import logging
from typing import Dict, List, Optional

import cv2
import numpy as np
import torch
from mmengine.dataset import Compose, pseudo_collate
from mmengine.dist import barrier, is_main_process
from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmengine.model import is_model_wrapper

from serankdet import recipes
from serankdet.datasets.irstd import _transforms
from serankdet.datasets.samplers import target_free_flags
from serankdet.datasets.transforms import (HardNegativeRandomCrop,
                                           write_hard_negatives)
from serankdet.registry import HOOKS, TRANSFORMS

#: the checkpoint entry of the mined points and the round count
STATE_KEY = 'hard_negative_mining'


def false_alarm_centroids(pred: np.ndarray) -> List[List[int]]:
    """The centroids (row, column), rounded, of the 8-connected components
    of a binary (H, W) prediction."""
    count, _, _, centroids = cv2.connectedComponentsWithStats(
        pred.astype(np.uint8), connectivity=8)
    # component 0 is the background
    return [[int(round(y)), int(round(x))] for x, y in centroids[1:count]]


@HOOKS.register_module()
class HardNegativeMiningHook(Hook):
    """Every ``interval`` training iterations (epochs with ``by_epoch``),
    predict the target-free training frames and record where the model
    fires, for :class:`~serankdet.datasets.transforms.HardNegativeRandomCrop`.

    The training dataset (an
    :class:`~serankdet.datasets.IRSTDDataset`) must have a
    ``HardNegativeRandomCrop`` in its pipeline; the hook writes that
    transform's ``points_file``: emptied when a training starts, so no
    earlier run's points are used, and rewritten with the points and the
    round count saved in the checkpoint when a training resumes, so the
    resumed run crops what the uninterrupted one would. A round predicts up to ``max_frames``
    target-free frames (all with None; else the next ``max_frames`` in
    turn, so successive rounds go round all of them) at native size,
    loaded without augmentation, with the model in eval mode (restored
    after), and replaces their entries by the centroids of the connected
    components of their predicted mask (:func:`false_alarm_centroids`);
    frames where nothing fires lose their entry. Rank 0 predicts and
    writes, the other processes wait for it.

    Args:
        interval (int): iterations (epochs with ``by_epoch``) between
            rounds.
        by_epoch (bool): count ``interval`` in epochs (after each training
            epoch) instead of iterations.
        max_frames (int, optional): target-free frames per round.
    """

    priority = 'LOW'

    def __init__(self, interval: int = 500, by_epoch: bool = False,
                 max_frames: Optional[int] = None) -> None:
        if interval < 1:
            raise ValueError(f'interval must be >= 1, got {interval}')
        if max_frames is not None and max_frames < 1:
            raise ValueError(f'max_frames must be >= 1, got {max_frames}')
        self.interval = interval
        self.by_epoch = by_epoch
        self.max_frames = max_frames
        self.points_file: Optional[str] = None
        self.frames: List[dict] = []
        self.rounds = 0
        # image path -> false-alarm centroids (rank 0's, as written)
        self.points: Dict[str, List[List[int]]] = {}
        # what a resumed checkpoint saved (after_load_checkpoint)
        self.saved_state: Optional[dict] = None
        self.pipeline = Compose(
            [TRANSFORMS.build(step) for step in recipes.pipeline()])

    def before_train(self, runner) -> None:
        dataset = runner.train_dataloader.dataset
        crops = [t for t in _transforms(dataset.pipeline.transforms)
                 if isinstance(t, HardNegativeRandomCrop)]
        if len(crops) != 1:
            raise ValueError(
                f'{type(self).__name__} needs one HardNegativeRandomCrop in '
                f'the training pipeline, found {len(crops)}')
        self.points_file = crops[0].points_file
        self.frames = [
            dataset.get_data_info(i)
            for i, free in enumerate(target_free_flags(dataset)) if free
        ]
        resumed = runner.iter > 0 or runner.epoch > 0
        state = self.saved_state if resumed else None
        if resumed and state is None:
            print_log(
                f'{type(self).__name__}: the resumed checkpoint holds no '
                'mined points (saved by an older version); mining starts '
                'again from none', logger='current', level=logging.WARNING)
        self.rounds = state['rounds'] if state else 0
        self.points = {path: [list(p) for p in found]
                       for path, found in (state or {}).get('points',
                                                            {}).items()}
        if is_main_process():
            write_hard_negatives(self.points_file, self.points)
        barrier()

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        checkpoint[STATE_KEY] = dict(rounds=self.rounds,
                                     points=dict(self.points))

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        self.saved_state = checkpoint.get(STATE_KEY)

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None) -> None:
        if not self.by_epoch and self.every_n_train_iters(
                runner, self.interval):
            self.mine(runner)

    def after_train_epoch(self, runner) -> None:
        if self.by_epoch and self.every_n_epochs(runner, self.interval):
            self.mine(runner)

    def round_frames(self) -> List[dict]:
        """The target-free frames of the next round (``max_frames`` in turn
        from where the last round stopped)."""
        count = len(self.frames)
        if self.max_frames is None or self.max_frames >= count:
            return self.frames
        start = self.rounds * self.max_frames
        return [self.frames[(start + i) % count]
                for i in range(self.max_frames)]

    def mine(self, runner) -> None:
        """Predict this round's frames and update ``points_file``."""
        frames = self.round_frames()
        self.rounds += 1
        if is_main_process() and frames:
            model = runner.model.module if is_model_wrapper(
                runner.model) else runner.model
            was_training = model.training
            model.eval()
            points = self.points
            with torch.no_grad():
                for info in frames:
                    data = pseudo_collate([self.pipeline(dict(info))])
                    pred = model.test_step(data)[0].pred_sem_seg.data[0]
                    found = false_alarm_centroids(pred.cpu().numpy())
                    if found:
                        points[info['img_path']] = found
                    else:
                        points.pop(info['img_path'], None)
            model.train(was_training)
            write_hard_negatives(self.points_file, points)
            print_log(
                f'{type(self).__name__}: {len(frames)} target-free frames '
                f'predicted, {len(points)} with false alarms '
                f'({sum(map(len, points.values()))} in all) -> '
                f'{self.points_file}', logger='current', level=logging.INFO)
        barrier()
