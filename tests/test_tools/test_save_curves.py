"""tools/test.py: --save-curves with a second metric in test_evaluator, and
the error for NaN model outputs."""
import json
import os
import os.path as osp
import pickle
import subprocess
import sys

import pytest
import torch

from serankdet.apis import init_model
from serankdet.evaluation import IRSTDMetric
from tests.conftest import REPO_ROOT
from tools.test import add_curve_options
from tests.tool_runner import read_metrics, run_tool, write_tiny_config

TEST = 'tools/test.py'

pytestmark = pytest.mark.smoke


def test_curve_options_go_only_to_metrics_that_take_them(tmp_path):
    path = str(tmp_path / 'curves.json')
    # a list: IRSTDMetric gets them, DumpResults does not
    evaluator = [dict(type='IRSTDMetric'),
                 dict(type='DumpResults', out_file_path='r.pkl')]
    assert add_curve_options(evaluator, 9, path) == [path]
    assert evaluator == [
        dict(type='IRSTDMetric', curve_thresholds=9, curve_file=path),
        dict(type='DumpResults', out_file_path='r.pkl')]
    # a single metric, a scoped name, a class, an evaluator with metrics
    for metric in (dict(type='IRSTDMetric', prefix='a'),
                   dict(type='serankdet.IRSTDMetric'),
                   dict(type=IRSTDMetric)):
        add_curve_options(metric, 5, path)
        assert (metric['curve_thresholds'], metric['curve_file']) == (5,
                                                                      path)
    evaluator = dict(type='Evaluator', metrics=[
        dict(type='mmseg.IoUMetric'), dict(type='IRSTDMetric')])
    add_curve_options(evaluator, 3, path)
    assert 'curve_file' not in evaluator['metrics'][0]
    assert evaluator['metrics'][1]['curve_file'] == path


def test_two_curve_metrics_write_two_files(tmp_path, capsys):
    path = str(tmp_path / 'curves.json')
    evaluator = [dict(type='IRSTDMetric'),
                 dict(type='IRSTDMetric', legacy=True, prefix='legacy')]
    second = str(tmp_path / 'curves.2.json')
    assert add_curve_options(evaluator, 9, path) == [path, second]
    assert [m['curve_file'] for m in evaluator] == [path, second]
    assert second in capsys.readouterr().out


def test_no_curve_metric_is_a_clear_error():
    with pytest.raises(ValueError, match="needs a metric.*DumpResults.*"
                       "dict\\(type='IRSTDMetric'\\)"):
        add_curve_options(
            [dict(type='DumpResults', out_file_path='r.pkl')], 9, 'c.json')


@pytest.fixture(scope='module')
def tiny(tmp_path_factory):
    """The tiny demo config with a second metric (mmengine's DumpResults)
    and a random-weight checkpoint of it."""
    folder = str(tmp_path_factory.mktemp('curves'))
    config = write_tiny_config(folder)
    dump = osp.join(folder, 'predictions.pkl')
    with open(config, 'a') as handle:
        handle.write(f'test_evaluator = [dict(type=\'IRSTDMetric\'), '
                     f'dict(type=\'DumpResults\', out_file_path={dump!r})]\n')
    torch.manual_seed(0)
    checkpoint = osp.join(folder, 'random.pth')
    torch.save(dict(state_dict=init_model(config).state_dict()), checkpoint)
    return dict(folder=folder, config=config, dump=dump,
                checkpoint=checkpoint)


def test_save_curves_with_a_second_metric(tiny):
    folder = tiny['folder']
    curves, out = osp.join(folder, 'c.json'), osp.join(folder, 'm.json')
    run_tool([sys.executable, TEST, tiny['config'], tiny['checkpoint'],
              '--work-dir', osp.join(folder, 'work'), '--out', out,
              '--save-curves', curves, '--curve-points', '9'],
             cwd=REPO_ROOT)
    with open(curves) as handle:
        data = json.load(handle)
    assert data['threshold'] == pytest.approx([k / 10 for k in range(1, 10)])
    for key in ('Pd', 'Fa', 'IoU', 'TPR', 'FPR'):
        assert len(data[key]) == 9
    metrics = read_metrics(out)
    assert metrics['irstd/num_images'] == 5
    assert 'irstd/curves' in metrics
    with open(tiny['dump'], 'rb') as handle:  # the second metric ran
        assert len(pickle.load(handle)) == 5


def test_nan_model_output_names_the_image(tiny):
    """A checkpoint whose weights are NaN: test.py ends with one error line
    naming the first image and saying why, not with a "no target" score."""
    folder = tiny['folder']
    state = torch.load(tiny['checkpoint'], weights_only=True)['state_dict']
    broken = osp.join(folder, 'nan.pth')
    torch.save(dict(state_dict={
        k: v.fill_(float('nan')) if v.is_floating_point() else v
        for k, v in state.items()}), broken)
    result = subprocess.run(
        [sys.executable, TEST, tiny['config'], broken, '--work-dir',
         osp.join(folder, 'nan_work')],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=600,
        env=dict(os.environ, PYTHONPATH=REPO_ROOT, OMP_NUM_THREADS='1'))
    assert result.returncode == 2, result.stderr[-3000:]
    error = result.stderr.strip().splitlines()[-2]
    assert error.startswith('error: IRSTDMetric: the model output')
    assert 'test_00000.png is NaN' in error
    assert 'diverged or the checkpoint is broken' in error
