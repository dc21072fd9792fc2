"""One decision rule for every tool: ``model.decode_head`` alone changes the
metric, the panels and the inferencer; tools/analysis_tools/calibrate.py
picks the hand-computed threshold and every tool then applies it.

The model is a stand-in whose logits are its input times 2: with the demo
preprocessing ((v / 255 - 0.5) / 0.25) a pixel of gray value v has the
target probability sigmoid(8 v / 255 - 4), so the frames below fix every
probability and the whole Pd-Fa curve by hand.
"""
import glob
import json
import shutil

import cv2
import numpy as np
import pytest
import torch

from serankdet.apis import IRSTDInferencer, init_model
from serankdet.cli import run_cli
from serankdet.models.segmentors.irstd_segmentor import IRSTDSegmentor
from serankdet.visualization.irstd_visualizer import IRSTDVisualizer
from tests.tool_runner import run_tool_cli, tool_main, write_config

SIZE = 32
PIXELS = 4 * SIZE * SIZE  # 4096: one pixel is Fa 244.14 x 1e-6

#: (frame, gray value, probability, top-left, side, is a target):
#: A and B are targets, C, D and E clutter.
OBJECTS = {
    'A': (0, 183, 0.8509, (10, 10), 3, True),
    'B': (1, 147, 0.6483, (20, 5), 3, True),
    'C': (2, 163, 0.7528, (4, 20), 2, False),
    'D': (3, 134, 0.5508, (8, 8), 1, False),
    'E': (3, 121, 0.4492, (25, 25), 1, False),
}


def _fa(pixels):
    return pytest.approx(pixels / PIXELS * 1e6)


@pytest.fixture(scope='module')
def scene(tmp_path_factory):
    """Four 32x32 frames with the objects of :data:`OBJECTS`, a config that
    validates and tests on them, and a random-weight checkpoint."""
    folder = tmp_path_factory.mktemp('rule')
    data = folder / 'frames'
    for sub in ('images', 'masks'):
        (data / sub).mkdir(parents=True)
    for frame in range(4):
        image = np.zeros((SIZE, SIZE), np.uint8)
        mask = np.zeros((SIZE, SIZE), np.uint8)
        for index, value, prob, (y, x), side, target in OBJECTS.values():
            if index != frame:
                continue
            assert 1 / (1 + np.exp(4 - 8 * value / 255)) == pytest.approx(
                prob, abs=1e-4)
            image[y:y + side, x:x + side] = value
            if target:
                mask[y:y + side, x:x + side] = 255
        cv2.imwrite(str(data / 'images' / f'f{frame}.png'), image)
        cv2.imwrite(str(data / 'masks' / f'f{frame}.png'), mask)
    config = write_config(str(folder), 'scene.py', f'''
split = dict(_delete_=True, type='IRSTDDataset', data_root={str(data)!r},
             data_prefix=dict(img_path='images', seg_map_path='masks'),
             test_mode=True, pipeline={{{{_base_.test_pipeline}}}})
val_dataloader = dict(dataset=split)
test_dataloader = dict(dataset=split)
''')
    torch.manual_seed(0)
    checkpoint = folder / 'model.pth'
    torch.save(dict(state_dict=init_model(config).state_dict()), checkpoint)
    return dict(folder=folder, data=data, config=config,
                checkpoint=str(checkpoint))


@pytest.fixture
def stand_in(monkeypatch):
    """Logits = 2 x the preprocessed input (see the module docstring)."""
    monkeypatch.setattr(
        IRSTDSegmentor, 'encode_decode',
        lambda self, inputs, batch_img_metas=None: inputs[:, :1] * 2.0)


@pytest.fixture
def checkpoint(scene, tmp_path):
    """A copy of the scene's checkpoint (its own sidecar, if any)."""
    path = tmp_path / 'model.pth'
    shutil.copy(scene['checkpoint'], path)
    return str(path)


def _test(scene, checkpoint, tmp_path, *options, show_dir=None):
    """tools/test.py in this process: (JSON content, printed output)."""
    out = tmp_path / f'metrics{len(list(tmp_path.glob("metrics*")))}.json'
    args = [scene['config'], checkpoint, '--work-dir', str(tmp_path / 'w'),
            '--out', str(out)]
    if show_dir:
        args += ['--show-dir', show_dir]
    assert run_tool_cli('test', *args, '--cfg-options', *options) == 0
    with open(out) as handle:
        return json.load(handle)


def _targets_per_frame(inferencer, scene):
    results = inferencer(str(scene['data'] / 'images'))
    return [len(result.targets) for result in results]


def test_head_threshold_alone_moves_metric_panels_and_inferencer(
        scene, checkpoint, stand_in, tmp_path, monkeypatch, capsys):
    """model.decode_head.threshold=0.4 alone (no evaluator key): the metric
    counts E (p 0.449) as a false alarm, the panels draw it and the
    inferencer lists it; the default 0.5 does neither."""
    panels = {}
    draw_panel = IRSTDVisualizer.draw_panel

    def recording(self, image, gt_mask, pred_mask, *args, **kwargs):
        panels[len(panels)] = np.asarray(pred_mask).squeeze() != 0
        return draw_panel(self, image, gt_mask, pred_mask, *args, **kwargs)

    monkeypatch.setattr(IRSTDVisualizer, 'draw_panel', recording)
    for threshold, fa_pixels, frame3 in ((0.4, 6, 2), (0.5, 5, 1)):
        panels.clear()
        result = _test(scene, checkpoint, tmp_path,
                       f'model.decode_head.threshold={threshold}',
                       show_dir=str(tmp_path / f'panels{threshold}'))
        assert result['decision_rule']['threshold'] == threshold
        metrics = result['metrics']
        assert metrics['irstd/Pd'] == 1.0
        assert metrics['irstd/Fa'] == _fa(fa_pixels)
        # the panels draw the scored masks: frame 3 holds D (and E at 0.4)
        assert len(panels) == 4
        assert [int(panels[i].sum()) for i in range(4)] == [9, 9, 4, frame3]
        assert panels[3][25, 25] == (threshold == 0.4)
        inferencer = IRSTDInferencer(scene['config'], checkpoint,
                                     cfg_options={
                                         'model.decode_head.threshold':
                                         threshold})
        assert inferencer.threshold == threshold
        assert _targets_per_frame(inferencer, scene) == [1, 1, 1, frame3]
    assert 'calibrated' not in capsys.readouterr().out


def test_post_processing_in_metric_and_inferencer_alike(
        scene, checkpoint, stand_in, tmp_path):
    """At threshold 0.4 with min_area 2 (drops D, E) and a seed at 0.7
    (drops B, peak 0.648): A is detected, C is the only false alarm."""
    options = {'model.decode_head.threshold': 0.4,
               'model.decode_head.min_area': 2,
               'model.decode_head.seed_threshold': 0.7}
    result = _test(scene, checkpoint, tmp_path,
                   *[f'{k}={v}' for k, v in options.items()])
    assert result['decision_rule'] == dict(threshold=0.4, min_area=2,
                                           max_area=None, seed_threshold=0.7)
    assert result['metrics']['irstd/Pd'] == 0.5
    assert result['metrics']['irstd/Fa'] == _fa(4)
    inferencer = IRSTDInferencer(scene['config'], checkpoint,
                                 cfg_options=options)
    assert _targets_per_frame(inferencer, scene) == [1, 0, 1, 0]
    # max_area 4 keeps C, D, E and drops the 9 px targets
    options = {'model.decode_head.threshold': 0.4,
               'model.decode_head.max_area': 4}
    result = _test(scene, checkpoint, tmp_path,
                   *[f'{k}={v}' for k, v in options.items()])
    assert result['metrics']['irstd/Pd'] == 0.0
    assert result['metrics']['irstd/Fa'] == _fa(6)
    inferencer = IRSTDInferencer(scene['config'], checkpoint,
                                 cfg_options=options)
    assert _targets_per_frame(inferencer, scene) == [0, 0, 1, 2]


@pytest.mark.parametrize('criterion, threshold', [
    (['--max-fa', '1000'], 0.6),             # C's 4 px: Fa 976.6
    (['--max-false-per-frame', '0.1'], 0.8),  # only A left
    (['--min-pd', '0.9'], 0.6),
])
def test_calibration_picks_the_hand_computed_point(
        scene, checkpoint, stand_in, tmp_path, capsys, criterion,
        threshold):
    """The 9-point curve (thresholds 0.1 .. 0.9): up to 0.4 every object
    (Pd 1, 6 false pixels, 0.75 false objects per frame); 0.5 drops E
    (5 px); 0.6 drops D (4 px, 0.25 per frame); 0.7 drops B (Pd 0.5);
    0.8 drops C (Fa 0); 0.9 drops A (Pd 0)."""
    calibrate = tool_main('analysis_tools/calibrate')
    name = f'calibrate{criterion[0]}'  # mmengine's instances are per name
    assert run_cli(calibrate, [
        scene['config'], checkpoint, '--points', '9', *criterion,
        '--cfg-options', f'experiment_name={name}',
        f'visualizer.name={name}']) == 0
    out = capsys.readouterr().out
    sidecar = checkpoint + '.decision.json'
    assert f'wrote {sidecar}' in out
    with open(sidecar) as handle:
        saved = json.load(handle)
    assert saved['decision_rule']['threshold'] == threshold
    curves = saved['curves']
    assert curves['threshold'] == pytest.approx(np.arange(1, 10) / 10)
    assert curves['Pd'] == [1.0] * 6 + [0.5, 0.5, 0.0]
    assert curves['Fa'] == [_fa(p) for p in (6, 6, 6, 6, 5, 4, 4, 0, 0)]
    assert curves['fa_objects_per_image'] == [0.75] * 4 + [
        0.5, 0.25, 0.25, 0.0, 0.0]

    # every tool then applies it, without a flag, and says so
    used = f'using calibrated threshold {threshold:g} from {sidecar}'
    result = _test(scene, checkpoint, tmp_path)
    assert used in capsys.readouterr().out
    assert result['decision_rule']['threshold'] == threshold
    index = int(round(threshold * 10)) - 1
    assert result['metrics']['irstd/Pd'] == curves['Pd'][index]
    assert result['metrics']['irstd/Fa'] == pytest.approx(
        curves['Fa'][index])
    inferencer = IRSTDInferencer(scene['config'], checkpoint)
    assert inferencer.threshold == threshold
    assert used in capsys.readouterr().out
    out_dir = tmp_path / 'infer'
    assert tool_main('infer')([scene['config'], checkpoint,
                               str(scene['data'] / 'images'), '--out-dir',
                               str(out_dir)]) == 0
    with open(out_dir / 'targets.json') as handle:
        report = json.load(handle)
    assert report['run']['threshold'] == threshold
    expected = [1, 1, 1, 0] if threshold == 0.6 else [1, 0, 0, 0]
    assert [len(f['targets']) for f in report['frames']] == expected

    # an explicit threshold wins, and the log says the sidecar is unused
    result = _test(scene, checkpoint, tmp_path,
                   'model.decode_head.threshold=0.4')
    assert (f'not using calibrated threshold {threshold:g} from {sidecar}: '
            'model.decode_head.threshold given') in capsys.readouterr().out
    assert result['metrics']['irstd/Fa'] == _fa(6)
    assert IRSTDInferencer(scene['config'], checkpoint,
                           threshold=0.4).threshold == 0.4


def test_calibration_out_of_reach_is_one_error(scene, checkpoint, stand_in,
                                               capsys):
    """max_area 4 drops both targets: Pd is 0 at every threshold, so no
    point reaches Pd 1 (the best, Pd 0 with the least Fa, is at 0.8);
    nothing is written."""
    calibrate = tool_main('analysis_tools/calibrate')
    assert run_cli(calibrate, [
        scene['config'], checkpoint, '--points', '9', '--split', 'test',
        '--min-pd', '1', '--cfg-options', 'model.decode_head.max_area=4',
        'experiment_name=out_of_reach', 'visualizer.name=out_of_reach']) == 2
    err = capsys.readouterr().err
    assert err.startswith('error: no threshold of the 9-point grid meets '
                          'min_pd 1 on the test split; the highest Pd is at '
                          'threshold 0.800 (Pd 0.00%, Fa 0.00 x 1e-6'), err
    assert not glob.glob(checkpoint + '.decision.json*')


# --- the same rule for an exported graph (--backend onnxruntime) ----------

#: The rule calibrated below: threshold 0.4 keeps every object, min_area 2
#: then drops the 1 px clutter D and E: Pd 1, Fa 4 px (C), targets per
#: frame [1, 1, 1, 0]; the threshold alone gives Fa 6 px and [1, 1, 1, 2],
#: the config's rule (0.5) Fa 5 px and [1, 1, 1, 1].
CALIBRATED = dict(threshold=0.4, min_area=2, max_area=None,
                  seed_threshold=None)


def _export(scene, checkpoint, out, *options):
    """tools/deployment/export_onnx.py of the stand-in (logits = 2 x the
    input): the graph gives the scene's hand-computed probabilities. The
    stand-in is undone afterwards, so that the graph alone runs later."""
    pytest.importorskip('onnx')
    pytest.importorskip('onnxruntime')
    from tools.deployment.export_onnx import main as export_main
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(IRSTDSegmentor, 'encode_decode',
                      lambda self, inputs, batch_img_metas=None:
                      inputs[:, :1] * 2.0)
        assert export_main([scene['config'], checkpoint, out, '--dynamic',
                            '--exporter', 'torchscript', *options]) == 0
    return out


def _stored_rule(path):
    import onnx
    meta = {p.key: p.value for p in onnx.load(path).metadata_props}
    return json.loads(meta['serankdet.decision_rule'])


def _test_onnx(scene, onnx_file, tmp_path, *options):
    """tools/test.py --backend onnxruntime in this process: JSON content."""
    out = tmp_path / f'onnx{len(list(tmp_path.glob("onnx*.json")))}.json'
    assert run_tool_cli('test', scene['config'], '--backend', 'onnxruntime',
                        '--onnx', onnx_file, '--work-dir',
                        str(tmp_path / 'w'), '--out', str(out),
                        '--cfg-options', *options) == 0
    with open(out) as handle:
        return json.load(handle)


def _infer_targets(scene, out_dir, *argv):
    """tools/infer.py on the scene's frames: targets per frame, masks."""
    assert tool_main('infer')([scene['config'], *argv,
                               str(scene['data'] / 'images'), '--out-dir',
                               str(out_dir)]) == 0
    with open(out_dir / 'targets.json') as handle:
        report = json.load(handle)
    masks = [cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
             for path in sorted((out_dir / 'masks').glob('*.png'))]
    return [len(f['targets']) for f in report['frames']], masks, report


def test_exported_graph_is_scored_with_the_calibrated_rule(
        scene, checkpoint, tmp_path, monkeypatch, capsys):
    """The checkpoint's calibrated rule goes into the graph's metadata;
    tools/test.py and tools/infer.py apply it to the graph as they apply
    the calibration file to the checkpoint (same metrics, same masks, the
    same kind of log line), an explicit rule key overrides both, and the
    int8 graph of quantize_onnx.py keeps it."""
    from serankdet.evaluation.calibration import save_calibration
    from serankdet.evaluation.functional import DecisionRule
    from tools.deployment.quantize_onnx import main as quantize_main
    sidecar = save_calibration(checkpoint, DecisionRule(**CALIBRATED))
    onnx_file = _export(scene, checkpoint, str(tmp_path / 'model.onnx'))
    out = capsys.readouterr().out
    assert (f'using calibrated threshold 0.4, min_area 2 from {sidecar}'
            in out)
    assert ('decision rule stored in its metadata (serankdet.decision_rule)'
            ': threshold 0.4, min_area 2, calibrated by model.pth.'
            'decision.json') in out
    assert _stored_rule(onnx_file) == dict(
        decision_rule=CALIBRATED, calibration='model.pth.decision.json')

    # tools/test.py: the graph scores as the calibrated checkpoint
    stored = (f'using calibrated threshold 0.4, min_area 2 from {onnx_file} '
              '(ONNX metadata serankdet.decision_rule, calibrated by '
              'model.pth.decision.json)')
    graph = _test_onnx(scene, onnx_file, tmp_path)
    assert stored in capsys.readouterr().out
    with monkeypatch.context() as patch:
        patch.setattr(IRSTDSegmentor, 'encode_decode',
                      lambda self, inputs, batch_img_metas=None:
                      inputs[:, :1] * 2.0)
        reference = _test(scene, checkpoint, tmp_path)
    assert graph['decision_rule'] == reference['decision_rule'] == CALIBRATED
    assert graph['metrics']['irstd/Pd'] == 1.0
    assert graph['metrics']['irstd/Fa'] == _fa(4)
    for key in ('irstd/IoU', 'irstd/nIoU', 'irstd/Pd', 'irstd/Fa'):
        assert graph['metrics'][key] == pytest.approx(
            reference['metrics'][key], abs=1e-12)
    # an explicit rule key overrides the stored rule, as the sidecar's
    graph = _test_onnx(scene, onnx_file, tmp_path,
                       'model.decode_head.threshold=0.4')
    assert (f'not using calibrated threshold 0.4 from {onnx_file} (ONNX '
            'metadata serankdet.decision_rule, calibrated by model.pth.'
            'decision.json): model.decode_head.threshold given'
            ) in capsys.readouterr().out
    assert graph['decision_rule']['min_area'] == 0
    assert graph['metrics']['irstd/Fa'] == _fa(6)

    # tools/infer.py: the graph's masks are the checkpoint's
    with monkeypatch.context() as patch:
        patch.setattr(IRSTDSegmentor, 'encode_decode',
                      lambda self, inputs, batch_img_metas=None:
                      inputs[:, :1] * 2.0)
        counts, masks, _ = _infer_targets(scene, tmp_path / 'i0',
                                          checkpoint)
    assert counts == [1, 1, 1, 0]
    graph_counts, graph_masks, report = _infer_targets(
        scene, tmp_path / 'i1', '--backend', 'onnxruntime', '--onnx',
        onnx_file)
    assert stored in capsys.readouterr().out
    assert graph_counts == counts and len(graph_masks) == 4
    assert all(np.array_equal(a, b) for a, b in zip(masks, graph_masks))
    assert report['run']['decision_rule'] == CALIBRATED
    counts, _, _ = _infer_targets(scene, tmp_path / 'i2', '--backend',
                                  'onnxruntime', '--onnx', onnx_file,
                                  '--threshold', '0.4')
    assert counts == [1, 1, 1, 2]

    # the int8 graph keeps the rule, and the inferencer applies it
    int8_file = str(tmp_path / 'int8.onnx')
    assert quantize_main([scene['config'], onnx_file, int8_file,
                          '--calib-dir', str(scene['data'] / 'images'),
                          '--num-frames', '4']) == 0
    assert _stored_rule(int8_file) == _stored_rule(onnx_file)
    assert ('decision rule kept in its metadata (serankdet.decision_rule): '
            'threshold 0.4, min_area 2') in capsys.readouterr().out
    inferencer = IRSTDInferencer(scene['config'], backend='onnxruntime',
                                 onnx_file=int8_file)
    assert inferencer.decision_rule == DecisionRule(**CALIBRATED)
    assert inferencer.model.decode_head.decision_rule == \
        DecisionRule(**CALIBRATED)
    assert IRSTDInferencer(scene['config'], backend='onnxruntime',
                           onnx_file=int8_file,
                           threshold=0.6).decision_rule == DecisionRule(0.6)


def test_graph_without_a_stored_rule_uses_the_config_rule(
        scene, checkpoint, tmp_path, capsys):
    """A graph exported before the rule was stored (the metadata key
    removed here): the config's rule, with a one-line warning naming the
    file and how to re-export it; the export's --cfg-options rule key
    wins over the calibration file, as in tools/test.py."""
    import onnx
    from serankdet.evaluation.calibration import save_calibration
    from serankdet.evaluation.functional import DecisionRule
    save_calibration(checkpoint, DecisionRule(**CALIBRATED))
    onnx_file = _export(scene, checkpoint, str(tmp_path / 'model.onnx'),
                        '--cfg-options', 'model.decode_head.threshold=0.6')
    assert 'not using calibrated threshold 0.4' in capsys.readouterr().out
    assert _stored_rule(onnx_file) == dict(
        decision_rule=dict(CALIBRATED, threshold=0.6, min_area=0),
        calibration=None)
    graph = onnx.load(onnx_file)
    kept = [p for p in graph.metadata_props
            if p.key != 'serankdet.decision_rule']
    del graph.metadata_props[:]
    graph.metadata_props.extend(kept)
    old_file = str(tmp_path / 'old.onnx')
    onnx.save(graph, old_file)

    result = _test_onnx(scene, old_file, tmp_path)
    captured = capsys.readouterr()
    warning = [line for line in captured.err.splitlines()
               if old_file in line]
    assert warning == [
        f'warning: {old_file} stores no decision rule (exported before '
        "serankdet.decision_rule was stored): using the config's threshold "
        '0.5; re-export it (tools/deployment/export_onnx.py CONFIG CKPT '
        f"{old_file}) to store the checkpoint's rule, calibrated or not"]
    assert result['decision_rule'] == dict(CALIBRATED, threshold=0.5,
                                           min_area=0)
    assert result['metrics']['irstd/Fa'] == _fa(5)
    inferencer = IRSTDInferencer(scene['config'], backend='onnxruntime',
                                 onnx_file=old_file)
    assert 're-export it' in capsys.readouterr().out
    assert inferencer.decision_rule == DecisionRule()
    assert _targets_per_frame(inferencer, scene) == [1, 1, 1, 1]
    # the user's rule: nothing to warn about
    IRSTDInferencer(scene['config'], backend='onnxruntime',
                    onnx_file=old_file, threshold=0.4)
    assert 're-export' not in capsys.readouterr().out
