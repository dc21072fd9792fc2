"""``benchmarks/deploy.py``: the whole run on a tiny random U-Net (export,
int8, four backends timed and scored, the video row) and its bookkeeping
(speed-ups and metric differences against the same run's float32 rows)."""
import json
import os.path as osp
import textwrap

import pytest
import torch

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DEMO_CONFIG = osp.join(REPO_ROOT, 'configs', 'unet',
                       'unet_1xb8-800i_synthetic-128x128.py')


@pytest.fixture(scope='module')
def tiny_run(deploy, tmp_path_factory):
    """deploy.py on a 4-8-16-32 U-Net with random weights and a synthetic
    set of 4 + 3 frames of 64 x 64, at 64x48 and 32x32, one run."""
    from serankdet.apis import init_model
    from serankdet.datasets.synthetic import write_synthetic_dataset
    tmp = tmp_path_factory.mktemp('deploy')
    config = tmp / 'tiny.py'
    config.write_text(textwrap.dedent(f'''
        _base_ = [{DEMO_CONFIG!r}]
        channels = (4, 8, 16, 32)
        model = dict(backbone=dict(channels=channels),
                     neck=dict(in_channels=channels),
                     decode_head=dict(in_channels=channels))
        '''))
    torch.manual_seed(0)
    checkpoint = tmp / 'tiny.pth'
    torch.save(dict(state_dict=init_model(str(config)).state_dict(), meta={}),
               checkpoint)
    data = tmp / 'data'
    write_synthetic_dataset(str(data), num_train=4, num_test=3,
                            img_size=(64, 64), seed=1)
    out = tmp / 'deploy.json'
    threads = torch.get_num_threads()
    try:
        printed = deploy.main([
            '--models', f'{config}={checkpoint}', '--sizes', '64x48',
            '32x32', '--threads', '1', '--runs', '1', '--frames', '2',
            '--data-root', str(data), '--num-calib', '2',
            '--video-models', 'tiny', '--video-frames', '3',
            '--out', str(out)])
    finally:
        torch.set_num_threads(threads)
    with open(out) as handle:
        return json.load(handle), printed


def test_the_json_has_every_backend_at_every_size(deploy, tiny_run):
    result, printed = tiny_run
    assert result == json.loads(json.dumps(printed))
    assert result['threads'] == 1 and result['runs'] == 1
    assert result['sizes'] == [[64, 48], [32, 32]]
    (record, ) = result['models']
    assert record['model'] == 'tiny' and record['weights'] == 'checkpoint'
    assert record['graphs']['ort-fp32']['exporter'] == 'torchscript'
    assert record['graphs']['ort-fp32']['dynamic'] is True
    assert 'error' not in record['graphs']['ort-int8']
    assert [(tuple(r['size']), r['backend']) for r in record['speed']] == [
        (size, backend) for size in ((64, 48), (32, 32))
        for backend in deploy.BACKENDS]
    for row in record['speed']:
        assert 'error' not in row, row
        assert len(row['times_s']) == 1 and row['frames'] == 2
        assert row['frames_per_second'] == pytest.approx(
            2 / row['median_s'])
    # where the time goes: both graphs profiled at the first size, the
    # operator shares summing to 100 %, the int8 graph's own operators
    assert [(r['backend'], r['size'], r['graph_runs'])
            for r in record['profile']] == [
        ('ort-fp32', [64, 48], 1), ('ort-int8', [64, 48], 1)]
    for row in record['profile']:
        assert sum(row['op_types'].values()) == pytest.approx(100, abs=0.5)
        assert row['graph_ms'] > 0 and 0 <= row['outside_graph_percent'] < 100
    assert 'Conv' in record['profile'][0]['op_types']
    assert {'QLinearConv', 'ConvInteger', 'QuantizeLinear'} & set(
        record['profile'][1]['op_types'])
    table = deploy.profile_table([record])
    assert len(table) == 4 and table[2].startswith('| tiny | ort-fp32 | 64x48 |')
    assert [r['backend'] for r in record['metrics']] == list(deploy.BACKENDS)
    for row in record['metrics']:
        assert 'error' not in row, row
        assert row['num_images'] == 3
        assert set(deploy.METRICS) <= set(row)
    (video, ) = result['video']
    assert video['model'] == 'tiny' and video['size'] == [640, 512]
    assert len(video['frames_per_second_runs']) == 1
    assert video['frames_per_second'] > 0
    assert 'goal' not in video  # the video goal is ACM's and ALCNet's


def test_ratios_are_against_the_same_runs_float32_rows(deploy, tiny_run):
    (record, ) = tiny_run[0]['models']
    speed = {(tuple(r['size']), r['backend']): r for r in record['speed']}
    for (size, backend), row in speed.items():
        reference = speed[size, 'pytorch-fp32']
        assert row['speedup_vs_fp32'] == pytest.approx(
            row['frames_per_second'] / reference['frames_per_second'])
        goal = row.get('goal')
        assert (goal is not None) == (backend in deploy.SPEED_GOALS)
        if goal:
            assert goal['met'] == (row['speedup_vs_fp32'] >=
                                   deploy.SPEED_GOALS[backend])
    metrics = {r['backend']: r for r in record['metrics']}
    for backend, row in metrics.items():
        for key in deploy.METRICS:
            scale = 1 if key == 'Fa' else 100
            assert row['delta_vs_fp32'][key] == pytest.approx(
                (row[key] - metrics['pytorch-fp32'][key]) * scale)
        assert ('goal' in row) == (backend != 'pytorch-fp32')


def test_speedups_pair_rows_by_model_and_size(deploy):
    rows = [dict(model=m, size=s, backend=b, frames_per_second=f)
            for m, s, b, f in [('a', [8, 8], 'pytorch-fp32', 10.0),
                               ('a', [8, 8], 'ort-int8', 30.0),
                               ('a', [4, 4], 'pytorch-fp32', 40.0),
                               ('a', [4, 4], 'ort-fp32', 50.0),
                               ('b', [8, 8], 'pytorch-fp32', 5.0),
                               ('b', [8, 8], 'ort-fp32', 6.0)]]
    rows.append(dict(model='b', size=[8, 8], backend='ort-int8',
                     error='no float32 graph'))
    deploy.add_speedups(rows)
    assert [r['speedup_vs_fp32'] for r in rows[:-1]] == pytest.approx(
        [1.0, 3.0, 1.0, 1.25, 1.0, 1.2], abs=1e-12)
    assert rows[-1]['speedup_vs_fp32'] is None
    assert rows[1]['goal']['met'] and rows[1]['goal']['by'] == \
        pytest.approx(0.5)
    assert not rows[3]['goal']['met']
    assert rows[6]['goal']['met'] is None
    assert 'MISSED by 0.05x' in deploy.goal_text(rows[3]['goal'])


def test_metric_goal_is_missed_beyond_half_an_iou_point(deploy):
    reference = dict(model='a', backend='pytorch-fp32', IoU=0.70, nIoU=0.7,
                     Pd=0.95, Fa=10.0)
    close = dict(reference, backend='ort-fp32', IoU=0.698, Pd=0.95)
    far = dict(reference, backend='ort-int8', IoU=0.692, Fa=12.0)
    failed = dict(model='a', backend='pytorch-bf16', error='boom')
    deploy.add_metric_deltas([reference, close, far, failed])
    assert close['goal']['met'] and far['goal']['met'] is False
    assert far['delta_vs_fp32']['IoU'] == pytest.approx(-0.8)
    assert far['delta_vs_fp32']['Fa'] == pytest.approx(2.0)
    assert far['goal']['by'] == pytest.approx(-0.3)
    assert failed['delta_vs_fp32'] is None and failed['goal']['met'] is None
    lines = deploy.metric_table([dict(metrics=[reference, far, failed])])
    assert 'MISSED by 0.30 pt' in lines[3] and '| boom |' in lines[4]


def test_a_failing_tool_gives_the_first_line_of_its_error(deploy, tmp_path):
    log = str(tmp_path / 'log')

    def raises(argv):
        raise ValueError('cannot export\ndetails')

    def fails(argv):
        print('error: the difference exceeds --atol 0.001')
        return 1

    assert deploy.call_tool(raises, [], log) == 'ValueError: cannot export'
    assert deploy.call_tool(fails, [], log) == (
        'error: the difference exceeds --atol 0.001')
    assert deploy.call_tool(lambda argv: 0, [], log) is None
    assert 'Traceback' in open(log).read()


def test_a_failed_export_is_said_in_the_graph_rows(deploy, tiny_run,
                                                  monkeypatch, tmp_path):
    """The PyTorch rows are measured, the graphs' rows give the export's
    error (the tiny run's config and data, taken from its JSON)."""
    (record, ) = tiny_run[0]['models']
    data = tiny_run[0]['data_root']

    def failed_export(*args):
        return dict(error='torchscript dynamic: error: boom',
                    tried=['torchscript dynamic: error: boom'])

    monkeypatch.setattr(deploy, 'export_graph', failed_export)
    threads = torch.get_num_threads()
    try:
        result = deploy.main([
            '--models', f'{record["config"]}={record["checkpoint"]}',
            '--sizes', '32x32', '--threads', '1', '--runs', '1',
            '--frames', '1', '--data-root', data, '--no-metrics',
            '--out', str(tmp_path / 'deploy.json')])
    finally:
        torch.set_num_threads(threads)
    (record, ) = result['models']
    assert record['graphs']['ort-fp32']['error'] == (
        'torchscript dynamic: error: boom')
    assert record['graphs']['ort-int8']['error'] == (
        'no float32 graph: torchscript dynamic: error: boom')
    rows = {r['backend']: r for r in record['speed']}
    assert rows['ort-fp32']['error'] == 'torchscript dynamic: error: boom'
    assert rows['ort-fp32']['speedup_vs_fp32'] is None
    assert rows['ort-fp32']['goal']['met'] is None
    assert rows['pytorch-bf16']['speedup_vs_fp32'] > 0
    assert record['metrics'] == [] and result['video'] == []


def test_backends_to_measure_always_include_the_reference(deploy):
    assert deploy.parse_args(['--backends', 'ort-int8']).backends == [
        'pytorch-fp32', 'ort-int8']
    assert deploy.parse_args([]).backends == list(deploy.BACKENDS)
