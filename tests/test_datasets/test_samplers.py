"""NegativeRatioSampler on 10 tiny frames, checked by counting."""
from collections import Counter

import numpy as np
import pytest

from serankdet.datasets import IRSTDDataset
from serankdet.datasets.samplers import NegativeRatioSampler
from serankdet.registry import DATA_SAMPLERS
from tests.negative_frames import target_mask, write_frames

# frames 1, 4, 6, 9 hold a target (P = 4); 0, 2, 3, 5, 7, 8 do not (N = 6)
POSITIVES = [1, 4, 6, 9]
NEGATIVES = [0, 2, 3, 5, 7, 8]


@pytest.fixture(scope='module')
def dataset(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('frames'))
    write_frames(root, [
        target_mask() if i in POSITIVES else np.zeros((8, 8), np.uint8)
        for i in range(10)
    ])
    return IRSTDDataset(data_root=root, pipeline=[])


def epoch(sampler, number):
    sampler.set_epoch(number)
    return list(sampler)


def test_every_target_frame_once_and_half_as_many_target_free(dataset):
    sampler = NegativeRatioSampler(dataset, negative_ratio=0.5, seed=3)
    assert (sampler.positives, sampler.negatives) == (POSITIVES, NEGATIVES)
    # k = round(0.5 * 4) = 2 target-free frames per epoch: 6 indices
    assert len(sampler) == 6
    drawn = []
    for number in range(3):
        indices = epoch(sampler, number)
        assert len(indices) == 6
        assert sorted(i for i in indices if i in POSITIVES) == POSITIVES
        negatives = [i for i in indices if i not in POSITIVES]
        assert len(negatives) == 2
        drawn += negatives
    # three epochs of 2 go once through the 6 target-free frames
    assert sorted(drawn) == NEGATIVES
    # epoch 3 starts a new permutation: again 2 distinct target-free frames
    fourth = [i for i in epoch(sampler, 3) if i not in POSITIVES]
    assert len(set(fourth)) == 2 and set(fourth) <= set(NEGATIVES)


def test_more_target_free_frames_than_exist_repeat_them(dataset):
    # k = round(2 * 4) = 8 > N = 6: the 6 once, then 2 of the next turn
    sampler = NegativeRatioSampler(dataset, negative_ratio=2.0, seed=0)
    indices = list(sampler)
    assert len(indices) == 12
    counts = Counter(i for i in indices if i not in POSITIVES)
    assert set(counts) == set(NEGATIVES) and sum(counts.values()) == 8
    assert sorted(counts.values()) == [1, 1, 1, 1, 2, 2]
    # ratio 0: the frames with targets only
    assert sorted(NegativeRatioSampler(dataset, negative_ratio=0,
                                       seed=0)) == POSITIVES


def test_order_is_fixed_by_seed_and_epoch(dataset):
    first = NegativeRatioSampler(dataset, seed=7)
    second = DATA_SAMPLERS.build(
        dict(type='NegativeRatioSampler', seed=7), default_args=dict(
            dataset=dataset))
    assert epoch(first, 0) == epoch(second, 0)
    assert epoch(first, 1) == epoch(second, 1)
    orders = {tuple(epoch(first, n)) for n in range(5)}
    assert len(orders) > 1


def test_ranks_share_one_epoch(dataset, monkeypatch):
    # 6 indices over 4 processes: padded to 8 with the first 2 repeated,
    # process r takes positions r and r + 4
    whole = epoch(NegativeRatioSampler(dataset, seed=5), 2)
    padded = whole + whole[:2]
    parts = []
    for rank in range(4):
        monkeypatch.setattr('mmengine.dataset.sampler.get_dist_info',
                            lambda rank=rank: (rank, 4))
        sampler = NegativeRatioSampler(dataset, seed=5)
        assert len(sampler) == 2
        parts.append(epoch(sampler, 2))
        assert parts[-1] == [padded[rank], padded[rank + 4]]
    assert sorted(sum(parts, [])) == sorted(padded)


def test_refuses_impossible_ratios(dataset, tmp_path):
    with pytest.raises(ValueError, match='negative_ratio must be >= 0'):
        NegativeRatioSampler(dataset, negative_ratio=-1)
    write_frames(str(tmp_path), [target_mask(), target_mask()])
    only_targets = IRSTDDataset(data_root=str(tmp_path), pipeline=[])
    with pytest.raises(ValueError, match='no target-free frame'):
        NegativeRatioSampler(only_targets, negative_ratio=0.5)
    assert len(NegativeRatioSampler(only_targets, negative_ratio=0)) == 2
    write_frames(str(tmp_path / 'empty'), [np.zeros((8, 8), np.uint8)])
    only_empty = IRSTDDataset(data_root=str(tmp_path / 'empty'), pipeline=[])
    with pytest.raises(ValueError, match='no frame with a target'):
        NegativeRatioSampler(only_empty)
