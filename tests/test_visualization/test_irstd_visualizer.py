"""IRSTDVisualizer panels: colours of hits, misses and false alarms under the
metric's matching rule, on hand-placed single-pixel targets."""
import numpy as np
import pytest

from serankdet.visualization import IRSTDVisualizer
from serankdet.visualization.irstd_visualizer import (FALSE_ALARM, GAP, HIT,
                                                       LEGEND_HEIGHT, MISS,
                                                       TARGET, to_uint8_gray)

H = W = 32


def _masks(gt_points, pred_points):
    gt, pred = np.zeros((H, W), np.uint8), np.zeros((H, W), np.uint8)
    for r, c in gt_points:
        gt[r, c] = 1
    for r, c in pred_points:
        pred[r, c] = 1
    return gt, pred


def _result_colour(panel, r, c):
    """Colour of pixel (r, c) of the third (prediction) panel."""
    return tuple(panel[r, 2 * (W + GAP) + c])


@pytest.fixture(scope='module')
def visualizer():
    return IRSTDVisualizer.get_instance('test_irstd_visualizer')


def _draw(visualizer, *args, **kwargs):
    """The panel at native size (no enlargement)."""
    return visualizer.draw_panel(*args, display_side=0, **kwargs)


def test_panel_layout_and_gt_panel(visualizer):
    gt, pred = _masks([(5, 5)], [(5, 5)])
    image = np.full((H, W), 100, np.uint8)
    panel = _draw(visualizer, image, gt, pred)
    assert panel.shape == (H + LEGEND_HEIGHT, 3 * W + 2 * GAP, 3)
    assert panel.dtype == np.uint8
    assert tuple(panel[0, 0]) == (100, 100, 100)          # the frame
    assert tuple(panel[0, W]) == (128, 128, 128)          # the gap
    assert tuple(panel[5, W + GAP + 5]) == (255, 255, 255)  # gt target
    assert tuple(panel[0, W + GAP]) == (0, 0, 0)
    assert _result_colour(panel, 5, 5) == HIT
    assert _result_colour(panel, 0, 0) == (50, 50, 50)    # dimmed frame


@pytest.mark.parametrize('distance, expected', [(3.0, 'apart'),
                                                (5.0, 'matched')])
def test_distance_decides_hit(visualizer, distance, expected):
    # centroids 4 px apart: a miss and a false alarm under the strict
    # 3 px rule, a hit with a 5 px radius
    gt, pred = _masks([(20, 20)], [(20, 24)])
    panel = _draw(visualizer, np.zeros((H, W)), gt, pred,
                                  distance=distance)
    if expected == 'apart':
        assert _result_colour(panel, 20, 24) == FALSE_ALARM
        assert _result_colour(panel, 20, 20) == MISS
    else:
        assert _result_colour(panel, 20, 24) == HIT
        assert _result_colour(panel, 20, 20) == (0, 0, 0)


def test_matching_method_is_the_metrics(visualizer):
    # targets A (10, 10) and B (10, 14); prediction P1 (10, 12) is within
    # 3 px of both, P2 (12, 10) of A only. Greedy (reference order) gives A
    # the first prediction, P1, and leaves B unmatched; the optimal
    # assignment matches A-P2 and B-P1.
    gt, pred = _masks([(10, 10), (10, 14)], [(10, 12), (12, 10)])
    greedy = _draw(visualizer, np.zeros((H, W)), gt, pred,
                                   matching='greedy')
    assert _result_colour(greedy, 10, 12) == HIT
    assert _result_colour(greedy, 12, 10) == FALSE_ALARM
    assert _result_colour(greedy, 10, 14) == MISS
    optimal = _draw(visualizer, np.zeros((H, W)), gt, pred,
                                    matching='hungarian')
    assert _result_colour(optimal, 10, 12) == HIT
    assert _result_colour(optimal, 12, 10) == HIT
    assert _result_colour(optimal, 10, 14) == (0, 0, 0)


def test_without_ground_truth_every_prediction_is_red(visualizer):
    _, pred = _masks([], [(3, 3)])
    panel = _draw(visualizer, np.zeros((H, W)), None, pred)
    assert _result_colour(panel, 3, 3) == FALSE_ALARM
    assert not panel[:H, W + GAP:2 * W + GAP].any()


def test_to_uint8_gray_scales_and_stretches():
    assert to_uint8_gray(np.array([[0, 255]], np.uint8)).tolist() == [[0, 255]]
    # 16-bit frame using the full range: divided by 65535
    assert to_uint8_gray(np.array([[0, 65535]])).tolist() == [[0, 255]]
    # 12-bit data in a 16-bit frame: stretched min..max
    assert to_uint8_gray(np.array([[1000, 4000]])).tolist() == [[0, 255]]


def test_small_frames_are_enlarged_with_rings_and_a_legend(visualizer):
    """A 32 px frame is shown 12x (384 px); the one-pixel miss gets a blue
    ring, the false alarm a red one; the legend is drawn under the panels."""
    gt, pred = _masks([(10, 10), (20, 20)], [(10, 10), (4, 28)])
    panel = visualizer.draw_panel(np.zeros((H, W)), gt, pred)
    scale = 384 // W
    assert panel.shape == (H * scale + LEGEND_HEIGHT,
                           3 * W * scale + 2 * GAP, 3)
    result = panel[:H * scale, 2 * (W * scale + GAP):]
    # the missed target: its pixel block in blue, a ring around it
    block = result[20 * scale:21 * scale, 20 * scale:21 * scale]
    assert (block == MISS).all()
    centre = (20.5 * scale, 20.5 * scale)
    ring = np.argwhere((result == MISS).all(axis=2))
    radii = np.hypot(ring[:, 0] + 0.5 - centre[0], ring[:, 1] + 0.5 -
                     centre[1])
    assert radii.max() > 0.5 * scale + 9  # a ring beyond the block itself
    assert (result[4 * scale, 28 * scale] == FALSE_ALARM).all()
    legend = panel[H * scale:]
    for colour in (HIT, MISS, FALSE_ALARM):
        assert (legend == colour).all(axis=2).any()


def test_sample_without_prediction_is_image_and_ground_truth(visualizer):
    gt, _ = _masks([(5, 5), (20, 20)], [])
    panel = _draw(visualizer, np.full((H, W), 100, np.uint8), gt, None)
    assert panel.shape == (H + LEGEND_HEIGHT, 2 * W + GAP, 3)
    assert tuple(panel[5, W + GAP + 5]) == (255, 255, 255)
    assert tuple(panel[5, 5]) == (100, 100, 100)
    # each target circled on the frame: the ring of the lone pixel at
    # (20, 20) passes 10 px to its left
    assert tuple(panel[20, 10]) == TARGET
