"""get_flops, benchmark, plot_curves and tools/test.py --save-curves."""
import json
import os.path as osp

import cv2
import numpy as np
import pytest
import torch

from serankdet.apis import init_model
from tests.conftest import REPO_ROOT
from tools.analysis_tools import benchmark, get_flops, plot_curves
from tests.tool_runner import DEMO_CONFIG, run_tool, write_tiny_config


def test_get_flops_counts_multiply_adds(capsys):
    model = init_model(DEMO_CONFIG)
    small = get_flops.complexity(model, (60, 64))  # padded to 64 x 64
    large = get_flops.complexity(model, (128, 128))
    assert small['shape'] == (64, 64)
    assert small['params'] == sum(p.numel() for p in model.parameters())
    # convolutions only: FLOPs grow with the pixel count
    assert large['flops'] == 4 * small['flops']
    # the 1x1 main conv (8 -> 1 channels) costs 8 multiply-adds per pixel
    params, flops = small['by_module']['decode_head.main_conv']
    assert (params, flops) == (8 + 1, 8 * 64 * 64)
    assert small['not_counted']  # e.g. the activations
    assert get_flops.main([DEMO_CONFIG, '--shape', '64', '64']) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert '1 multiply-add = 1 FLOP' in lines[1]
    model_row = next(line for line in lines if line.startswith('model '))
    assert model_row.split()[1:] == [f'{small["params"] / 1e6:.3f}',
                                     f'{small["flops"] / 1e9:.3f}']
    assert lines[-1].startswith('not counted (no FLOP counter in mmengine): ')
    assert 'WARNING' not in out and len(lines) < 20


@pytest.mark.parametrize('amp', [False, True])
def test_benchmark_times_the_timed_passes(capsys, monkeypatch, amp):
    calls = []
    original = benchmark.time_forward

    def spy(model, inputs, repeat, warmup, amp):
        times = original(model, inputs, repeat, warmup, amp)
        calls.append((tuple(inputs.shape), len(times), amp))
        return times

    monkeypatch.setattr(benchmark, 'time_forward', spy)
    threads = torch.get_num_threads()
    try:
        assert benchmark.main([DEMO_CONFIG, '--shape', '30', '40',
                               '--batch-size', '2', '--repeat', '3',
                               '--warmup', '1', '--threads', '1']
                              + ['--amp'] * amp) == 0
    finally:
        torch.set_num_threads(threads)
    assert calls == [((2, 1, 32, 40), 3, amp)]
    out = capsys.readouterr().out
    assert '1 warm-up + 3 timed passes' in out
    assert ('1 CPU threads, autocast)' in out) is amp
    assert 'frames/s' in out and 'median' in out


def fake_curves(shift):
    thresholds = np.arange(1, 10) / 10
    return dict(threshold=thresholds.tolist(),
                Pd=(1 - thresholds * shift).tolist(),
                Fa=(100 * (1 - thresholds)).tolist(),
                IoU=(0.5 - 0.3 * (thresholds - 0.5)**2).tolist())


def test_plot_curves_reads_both_formats(tmp_path, capsys):
    curve_file = tmp_path / 'a.json'
    curve_file.write_text(json.dumps(fake_curves(0.5)))
    metrics_file = tmp_path / 'b_metrics.json'
    metrics_file.write_text(json.dumps(dict(
        config='x', metrics={'irstd/IoU': 0.5,
                             'irstd/curves': fake_curves(0.2)})))
    out = tmp_path / 'fig' / 'curves.png'
    assert plot_curves.main([str(curve_file), str(metrics_file), '--out',
                             str(out), '--labels', 'A', 'B',
                             '--log-fa']) == 0
    image = cv2.imread(str(out))
    assert image is not None and image.shape[0] > 300
    assert plot_curves.load_curves(str(metrics_file))['Pd'][0] == \
        pytest.approx(0.98)
    empty = tmp_path / 'no_curves.json'
    empty.write_text(json.dumps(dict(metrics={'irstd/IoU': 0.5})))
    with pytest.raises(KeyError, match='--save-curves'):
        plot_curves.load_curves(str(empty))


def test_test_tool_saves_curves_for_the_plot(tmp_path):
    config = write_tiny_config(str(tmp_path), num_train=1, num_test=3)
    model = init_model(config)
    checkpoint = str(tmp_path / 'random.pth')
    torch.save(dict(state_dict=model.state_dict()), checkpoint)
    curves = str(tmp_path / 'curves.json')
    run_tool(['python', 'tools/test.py', config, checkpoint, '--work-dir',
              str(tmp_path / 'work'), '--out', str(tmp_path / 'm.json'),
              '--save-curves', curves, '--curve-points', '9'],
             cwd=REPO_ROOT)
    with open(curves) as handle:
        saved = json.load(handle)
    assert saved['threshold'] == pytest.approx(np.arange(1, 10) / 10)
    assert len(saved['Pd']) == len(saved['Fa']) == len(saved['IoU']) == 9
    # the curve at 0.5 is the metric at its threshold 0.5
    with open(tmp_path / 'm.json') as handle:
        metrics = json.load(handle)['metrics']
    for key in ('Pd', 'Fa', 'IoU'):
        assert saved[key][4] == pytest.approx(metrics[f'irstd/{key}'])
    out = str(tmp_path / 'curves.png')
    assert plot_curves.main([curves, str(tmp_path / 'm.json'), '--out',
                             out]) == 0
    assert osp.getsize(out) > 0
