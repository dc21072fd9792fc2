"""HardNegativeRandomCrop: crops centred on the points of the mining file."""
import os

import numpy as np
import pytest

from serankdet.datasets.transforms import (HardNegativeRandomCrop,
                                           read_hard_negatives,
                                           write_hard_negatives)
from serankdet.registry import TRANSFORMS

PATH = 'frames/f00.png'


def _empty_frame():
    """A target-free 10x10 frame whose pixel (r, c) holds 10 r + c (a crop's
    top-left value is its corner)."""
    return dict(img=np.arange(100, dtype=np.uint8).reshape(10, 10),
                gt_seg_map=np.zeros((10, 10), np.uint8),
                seg_fields=['gt_seg_map'], img_shape=(10, 10),
                img_path=PATH)


def _corners(crop, draws):
    np.random.seed(0)
    return [divmod(int(crop(_empty_frame())['img'][0, 0]), 10)
            for _ in range(draws)]


def _crop(points_file, prob=1.0):
    return TRANSFORMS.build(
        dict(type='HardNegativeRandomCrop', crop_size=(4, 4),
             points_file=str(points_file), hard_negative_prob=prob))


def test_file_round_trip(tmp_path):
    path = str(tmp_path / 'points.json')
    assert read_hard_negatives(path) == {}
    write_hard_negatives(path, {PATH: [(7, 8), (np.int64(1), 2)]})
    assert read_hard_negatives(path) == {PATH: [(7, 8), (1, 2)]}


def test_crop_is_centred_on_a_point_and_clipped(tmp_path):
    points = tmp_path / 'points.json'
    crop = _crop(points)
    # no file yet: uniform over the 7x7 corners
    assert len(set(_corners(crop, 600))) == 49
    # (7, 8): corner (7 - 2, 8 - 2) = (5, 6); the crop holds the point at
    # (2, 2)
    write_hard_negatives(str(points), {PATH: [(7, 8)]})
    assert set(_corners(crop, 20)) == {(5, 6)}
    # the file changed (another size): (1, 1) -> (-1, -1) clipped to (0, 0);
    # (9, 9) -> (7, 7) clipped to (6, 6); each drawn
    write_hard_negatives(str(points), {PATH: [(1, 1), (9, 9)]})
    assert set(_corners(crop, 40)) == {(0, 0), (6, 6)}
    # another frame's points do not move this frame's crop
    write_hard_negatives(str(points), {'frames/other.png': [(7, 8)]})
    assert len(set(_corners(crop, 600))) == 49


def test_share_of_centred_crops(tmp_path):
    points = tmp_path / 'points.json'
    write_hard_negatives(str(points), {PATH: [(7, 8)]})
    # centred with p 1/2, else uniform (which gives (5, 6) 1 time in 49)
    share = _corners(_crop(points, 0.5), 4000).count((5, 6)) / 4000
    assert share == pytest.approx(0.5 + 0.5 / 49, abs=0.025)
    # never centred: uniform only
    share = _corners(_crop(points, 0.0), 2000).count((5, 6)) / 2000
    assert share == pytest.approx(1 / 49, abs=0.01)


def test_reload_follows_modification_time(tmp_path):
    points = tmp_path / 'points.json'
    write_hard_negatives(str(points), {PATH: [(7, 8)]})
    crop = _crop(points)
    assert crop.points() == {PATH: [(7, 8)]}
    # same size, later modification time
    write_hard_negatives(str(points), {PATH: [(2, 3)]})
    stat = os.stat(points)
    os.utime(points, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    assert crop.points() == {PATH: [(2, 3)]}


def test_bad_probability_is_refused(tmp_path):
    with pytest.raises(ValueError, match=r'hard_negative_prob must be in'):
        HardNegativeRandomCrop((4, 4), str(tmp_path / 'p.json'),
                               hard_negative_prob=1.5)
