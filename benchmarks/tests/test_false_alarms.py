"""benchmarks/false_alarms.py without training: the goals and table on
hand-made metrics, the runs' configs (budget, schedule) and commands
(resume, threshold, evaluation sets)."""
import os
import os.path as osp

import pytest


def metrics(**values):
    base = dict(IoU=0.5, Pd=0.9, Fa=10.0, fa_objects_per_image=0.2,
                num_images=10)
    base.update(values)
    return base


def test_point_summary_weights_the_size_groups(false_alarms):
    summary = false_alarms.point_summary({
        'v2': metrics(Pd=0.92, IoU=0.4, Fa=3.0, fa_objects_per_image=0.5),
        'v2-free-1280x1024': metrics(fa_objects_per_image=0.3,
                                     num_images=10),
        'v2-free-640x512': metrics(fa_objects_per_image=0.0, num_images=5),
        'sirst': metrics(IoU=0.7),
        'sirst-unseen': metrics(IoU=0.6),
        'v2-unseen': metrics(Pd=0.8)})
    assert summary['Pd'] == 0.92 and summary['Fa'] == 3.0
    assert summary['false_per_frame_all'] == 0.5
    # 3 false objects over 15 target-free frames
    assert summary['false_per_free_frame'] == pytest.approx(0.2)
    assert summary['free_frames'] == 15
    assert summary['by_size'] == {
        '1280x1024': dict(frames=10, false_per_frame=0.3),
        '640x512': dict(frames=5, false_per_frame=0.0)}
    assert (summary['IoU_sirst'], summary['IoU_sirst_unseen'],
            summary['Pd_unseen']) == (0.7, 0.6, 0.8)


def test_goals_met_and_missed_with_margins(false_alarms):
    plain = dict(IoU_sirst=0.70)
    good = dict(Pd=0.93, false_per_free_frame=0.04, IoU_sirst=0.695)
    goals = false_alarms.goals(good, plain)
    assert goals['Pd']['met'] and goals['Pd']['margin'] == pytest.approx(
        0.03)
    assert goals['false_per_free_frame']['met']
    assert goals['false_per_free_frame']['margin'] == pytest.approx(0.06)
    assert goals['IoU_sirst']['met']  # 0.5 point below: within 1
    assert goals['IoU_sirst']['margin'] == pytest.approx(0.005)
    bad = false_alarms.goals(
        dict(Pd=0.85, false_per_free_frame=0.35, IoU_sirst=0.68), plain)
    assert not bad['Pd']['met'] and bad['Pd']['margin'] == pytest.approx(
        -0.05)
    assert not bad['false_per_free_frame']['met']
    assert bad['false_per_free_frame']['margin'] == pytest.approx(-0.25)
    assert not bad['IoU_sirst']['met']
    assert bad['IoU_sirst']['margin'] == pytest.approx(-0.01)
    # exactly on the limits is met
    edge = false_alarms.goals(
        dict(Pd=0.9, false_per_free_frame=0.1, IoU_sirst=0.69), plain)
    assert all(goal['met'] for goal in edge.values())
    # the plain recipe has no IoU goal; missing numbers are n/a
    alone = false_alarms.goals(dict(Pd=None, false_per_free_frame=None),
                               None)
    assert set(alone) == {'Pd', 'false_per_free_frame'}
    assert alone['Pd']['met'] is None
    assert false_alarms.describe(alone['Pd'], True) == 'n/a'
    assert false_alarms.describe(bad['Pd'], True) == 'MISSED (-5.0)'
    assert false_alarms.describe(goals['false_per_free_frame'],
                                 False) == 'met (+0.060)'


def summary(false_alarms, **values):
    base = false_alarms.point_summary({})
    base.update(values)
    return base


def test_table_compares_with_the_plain_run_at_the_same_point(false_alarms):
    runs = {
        'acm/plain': dict(model='acm', recipe='plain', thresholds={
            '0.5': 0.5, 'calibrated': 0.3}, points={
            '0.5': summary(false_alarms, Pd=0.8, IoU_sirst=0.70,
                           false_per_free_frame=0.5),
            'calibrated': summary(false_alarms, Pd=0.9, IoU_sirst=0.60,
                                  false_per_free_frame=0.9)}),
        'acm/negatives': dict(model='acm', recipe='negatives', thresholds={
            '0.5': 0.5}, points={
            '0.5': summary(false_alarms, Pd=0.91, IoU_sirst=0.68,
                           false_per_free_frame=0.05,
                           by_size={'640x512': dict(frames=4,
                                                    false_per_frame=0.25)})}),
    }
    rows = false_alarms.table_rows(runs)
    assert [(r['recipe'], r['point']) for r in rows] == [
        ('plain', '0.5'), ('plain', 'calibrated'), ('negatives', '0.5')]
    assert 'IoU_sirst' not in rows[0]['goals']
    # 0.68 against 0.70 at 0.5 (not the plain run's calibrated 0.60)
    assert rows[2]['goals']['IoU_sirst']['margin'] == pytest.approx(-0.01)
    assert rows[2]['goals']['Pd']['met']
    text = false_alarms.format_table(rows)
    lines = text.splitlines()
    assert 'Pd>=90' in lines[0]
    assert '(reference)' in lines[1]
    negatives = next(line for line in lines if 'negatives' in line)
    assert 'met (+1.0)' in negatives and 'met (+0.050)' in negatives
    assert 'MISSED (-1.0)' in negatives
    assert '640x512 0.250 (4)' in text


def test_size_groups_and_smoke_subsets(false_alarms):
    frames = ([dict(stem=f'a{i}', size=(1280, 1024), target=False)
               for i in range(6)]
              + [dict(stem=f'b{i}', size=(640, 512), target=i < 2)
                 for i in range(7)]
              + [dict(stem='c', size=(1918, 1080), target=False)])
    groups = false_alarms.size_groups(frames, min_group=5)
    assert list(groups) == ['1280x1024', '640x512', 'other']
    assert len(groups['640x512']) == 5 and groups['other'] == ['c']
    indices = false_alarms.balanced_indices(frames, 4)
    assert sum(frames[i]['target'] for i in indices) == 2
    assert len(indices) == 4
    only_targets = [dict(stem='x', size=(1, 1), target=True)] * 3
    assert false_alarms.balanced_indices(only_targets, 8) == [0, 1, 2]


def test_schedule_compressed_onto_the_budget(false_alarms):
    acm = false_alarms.compress_scheduler(
        [dict(type='MultiStepLR', by_epoch=True, milestones=[200, 300],
              gamma=0.1, begin=0, end=400)], 400, 'epochs', 2000)
    assert acm == [dict(type='MultiStepLR', by_epoch=False,
                        milestones=[1000, 1500], gamma=0.1, begin=0,
                        end=2000)]
    poly = false_alarms.compress_scheduler(
        [dict(type='LinearLR', by_epoch=False, begin=0, end=425),
         dict(type='PolyLR', by_epoch=False, begin=425, end=10200)],
        10200, 'iterations', 1020)
    assert [(s['begin'], s['end']) for s in poly] == [(0, 42), (42, 1020)]
    # a tiny budget keeps every stage (no empty warm-up)
    tiny = false_alarms.compress_scheduler(
        [dict(type='LinearLR', by_epoch=False, begin=0, end=425),
         dict(type='PolyLR', by_epoch=False, begin=425, end=10200)],
        10200, 'iterations', 4)
    assert [(s['begin'], s['end']) for s in tiny] == [(0, 1), (1, 4)]
    with pytest.raises(ValueError, match='counts in epochs'):
        false_alarms.compress_scheduler([dict(type='X', by_epoch=True)],
                                        100, 'iterations', 10)


def test_runs_and_their_configs(false_alarms):
    runs = false_alarms.planned_runs(['serankdet-w8', 'acm'],
                                     ['hard-negatives', 'negatives',
                                      'plain'])
    assert runs == [('serankdet-w8', 'plain'), ('serankdet-w8', 'negatives'),
                    ('serankdet-w8', 'hard-negatives'), ('acm', 'plain'),
                    ('acm', 'negatives')]  # ACM: no hard-negatives config
    for model, recipe in runs:
        assert osp.isfile(osp.join(false_alarms.REPO_ROOT,
                                   false_alarms.MODELS[model][recipe]))
    text = false_alarms.budget_config_text(
        false_alarms.MODELS['serankdet-w8']['hard-negatives'], 600, 3,
        '/runs/x', 200, train_indices=[0, 5])
    assert "max_iters=600" in text and 'val_begin=601' in text
    assert 'EarlyStoppingHook' not in text
    # mining keeps its interval, at most half the budget; its file in the
    # run's work dir
    assert "'type': 'HardNegativeMiningHook', 'interval': 300" in text
    assert "'points_file': '/runs/x/hard_negatives.json'" in text
    assert 'indices=[0, 5]' in text and 'seed=3' in text
    acm = false_alarms.budget_config_text(
        false_alarms.MODELS['acm']['plain'], 600, 0, '/runs/y', 200)
    assert "'milestones': [300, 450]" in acm
    assert 'interval=200' in acm and 'indices' not in acm


def test_commands_resume_and_thresholds(false_alarms, tmp_path):
    work_dir = str(tmp_path)
    command = false_alarms.train_command('run.py', work_dir)
    assert command[-2:] == ['--work-dir', work_dir]
    # a stopped run (a checkpoint recorded) continues
    (tmp_path / 'last_checkpoint').write_text(
        osp.join(work_dir, 'iter_200.pth'))
    assert false_alarms.train_command('run.py', work_dir)[-1] == '--resume'
    eval_set = dict(root='/d/SIRST-V2', stems=['a'])
    options = false_alarms.test_options(eval_set, '0.5', '/s/a.txt')
    assert options == ['test_dataloader.dataset.data_root=/d/SIRST-V2',
                       'test_dataloader.dataset.ann_file=/s/a.txt',
                       'model.decode_head.threshold=0.5']
    # the calibrated point: tools/test.py applies CKPT.decision.json itself
    calibrated = false_alarms.test_options(eval_set, 'calibrated', None)
    assert calibrated == ['test_dataloader.dataset.data_root=/d/SIRST-V2']
    test = false_alarms.test_command('run.py', 'c.pth', 'w', 'o.json',
                                     options)
    assert test[1].endswith(osp.join('tools', 'test.py'))
    assert test[test.index('--out') + 1] == 'o.json'
    assert test[test.index('--cfg-options') + 1:] == options
    calibrate = false_alarms.calibrate_command('run.py', 'c.pth', '/v2',
                                               0.9)
    assert calibrate[1].endswith('calibrate.py')
    assert calibrate[calibrate.index('--min-pd') + 1] == '0.9'
    assert calibrate[calibrate.index('--split') + 1] == 'val'
    assert calibrate[-1] == 'val_dataloader.dataset.data_root=/v2'


def test_defaults_and_smoke_paths(false_alarms):
    args = false_alarms.parse_args(['--iters', '10'])
    assert args.models == ['serankdet-w8', 'acm']
    assert args.out == false_alarms.RESULTS
    assert args.out.endswith(osp.join('benchmarks', 'results',
                                      'false_alarms.json'))
    smoke = false_alarms.parse_args(['--iters', '4', '--limit-test', '2'])
    assert smoke.out.startswith(false_alarms.SMOKE_ROOT)
    assert smoke.work_root == false_alarms.SMOKE_ROOT


def write_masks(root, split, masks):
    """masks: stem -> ((W, H), has a target)."""
    import numpy as np
    from PIL import Image
    folder = root / split / 'masks'
    folder.mkdir(parents=True)
    for stem, (size, target) in masks.items():
        mask = np.zeros(size[::-1], np.uint8)
        mask[1, 1] = 255 if target else 0
        Image.fromarray(mask).save(folder / f'{stem}.png')


def test_evaluation_sets(false_alarms, tmp_path):
    v2, sirst = tmp_path / 'v2', tmp_path / 'sirst'
    write_masks(v2, 'trainval', {'Misc_1': ((8, 6), True),
                                 'bg_0': ((16, 8), False)})
    write_masks(v2, 'test', {'Misc_2': ((8, 6), True),
                             'new_1': ((8, 6), True),
                             'bg_1': ((16, 8), False),
                             'bg_2': ((16, 8), False),
                             'bg_3': ((12, 8), False)})
    write_masks(sirst, 'trainval', {'Misc_2': ((8, 6), True)})
    write_masks(sirst, 'test', {'Misc_1': ((8, 6), True),
                                'Misc_3': ((8, 6), True)})
    sets = false_alarms.evaluation_sets(str(v2), str(sirst), min_group=2)
    assert {name: s['stems'] for name, s in sets.items()} == {
        'v2': None, 'v2-free-16x8': ['bg_1', 'bg_2'],
        'v2-free-other': ['bg_3'], 'sirst': None,
        # Misc_1 is in SIRST-V2's trainval, Misc_2 in SIRST's
        'sirst-unseen': ['Misc_3'], 'v2-unseen': ['new_1']}
    assert sets['sirst']['root'] == str(sirst)
    smoke = false_alarms.evaluation_sets(str(v2), str(sirst), 2, limit=2)
    assert smoke['v2']['stems'] == ['Misc_2', 'bg_1']
    assert smoke['sirst']['stems'] == ['Misc_1', 'Misc_3']


def test_failed_calibration_is_a_missed_row(false_alarms):
    runs = {'acm/plain': dict(
        model='acm', recipe='plain', thresholds={'0.5': 0.5},
        points={'0.5': summary(false_alarms, Pd=0.5)},
        calibration=dict(criterion=dict(min_pd=0.9),
                         error='error: no threshold of the 99-point grid '
                         'meets min_pd 0.9'))}
    rows = false_alarms.table_rows(runs)
    assert [row['point'] for row in rows] == ['0.5', 'calibrated']
    assert rows[1]['summary'] is None
    text = false_alarms.format_table(rows)
    assert 'goals MISSED: calibration failed: error: no threshold' in text
