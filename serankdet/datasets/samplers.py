"""Samplers that draw target-free frames beside the frames with targets."""
import math
from typing import Iterator, List, Optional

import numpy as np
from mmengine.dataset import DefaultSampler

from serankdet.registry import DATA_SAMPLERS
from .image_io import imread_mask


def target_free_flags(dataset) -> List[bool]:
    """Whether each sample of ``dataset`` (an :class:`IRSTDDataset`) has a
    mask without any target pixel; every mask is read once."""
    backend_args = getattr(dataset, 'backend_args', None)
    return [
        not imread_mask(dataset.get_data_info(i)['seg_map_path'],
                        backend_args).any() for i in range(len(dataset))
    ]


@DATA_SAMPLERS.register_module()
class NegativeRatioSampler(DefaultSampler):
    """Every frame with a target once per epoch, and ``negative_ratio``
    target-free frames per frame with a target, shuffled together.

    With P frames with targets and N target-free frames (read from the
    masks when the sampler is built), an epoch holds the P frames and
    ``k = round(negative_ratio * P)`` target-free ones: ``P + k`` indices in
    a random order. The target-free frames are taken in turn from an
    endless sequence of random permutations of the N, so that all N are
    drawn once before any of them is drawn again (over ``ceil(N / k)``
    epochs when ``k <= N``; more than once within an epoch when ``k > N``).
    The permutations and each epoch's order are drawn from ``seed`` (and
    the epoch, :meth:`set_epoch`), identical on every process.

    Distributed (as mmengine's :class:`~mmengine.dataset.DefaultSampler`,
    which this extends): the epoch's ``P + k`` indices are repeated up to
    a multiple of the world size (``round_up``) and process ``rank`` takes
    every ``world_size``-th of them from position ``rank``.

    Args:
        dataset (IRSTDDataset): the training dataset, with masks.
        negative_ratio (float): target-free frames per frame with a target
            in an epoch (0: none; 1: as many as frames with targets).
        seed (int, optional): random seed, the same on every process
            (None: one drawn on rank 0 and broadcast).
        round_up (bool): pad the epoch to a multiple of the world size.
    """

    def __init__(self,
                 dataset,
                 negative_ratio: float = 0.5,
                 seed: Optional[int] = None,
                 round_up: bool = True) -> None:
        super().__init__(dataset, shuffle=True, seed=seed, round_up=round_up)
        if negative_ratio < 0:
            raise ValueError(f'{type(self).__name__}: negative_ratio must be '
                             f'>= 0, got {negative_ratio}')
        flags = target_free_flags(dataset)
        self.positives = [i for i, free in enumerate(flags) if not free]
        self.negatives = [i for i, free in enumerate(flags) if free]
        self.negative_ratio = negative_ratio
        self.num_negatives = round(negative_ratio * len(self.positives))
        if not self.positives:
            raise ValueError(f'{type(self).__name__}: the dataset has no '
                             'frame with a target')
        if self.num_negatives and not self.negatives:
            raise ValueError(
                f'{type(self).__name__}: negative_ratio={negative_ratio} but '
                'the dataset has no target-free frame')
        epoch_size = len(self.positives) + self.num_negatives
        if round_up:
            self.num_samples = math.ceil(epoch_size / self.world_size)
            self.total_size = self.num_samples * self.world_size
        else:
            self.num_samples = math.ceil(
                (epoch_size - self.rank) / self.world_size)
            self.total_size = epoch_size

    def epoch_negatives(self, epoch: int) -> List[int]:
        """The target-free frames of ``epoch``: positions ``epoch * k`` to
        ``(epoch + 1) * k`` of the endless sequence of permutations."""
        count, size = self.num_negatives, len(self.negatives)
        if not count:
            return []
        start = epoch * count
        drawn = []
        for turn in range(start // size, (start + count - 1) // size + 1):
            rng = np.random.default_rng((self.seed, 0, turn))
            drawn.extend(self.negatives[i] for i in rng.permutation(size))
        offset = start - start // size * size
        return drawn[offset:offset + count]

    def __iter__(self) -> Iterator[int]:
        indices = self.positives + self.epoch_negatives(self.epoch)
        rng = np.random.default_rng((self.seed, 1, self.epoch))
        indices = [indices[i] for i in rng.permutation(len(indices))]
        if self.round_up:
            indices = (indices * math.ceil(
                self.total_size / len(indices)))[:self.total_size]
        return iter(indices[self.rank:self.total_size:self.world_size])
