"""``benchmarks/parity.py`` bookkeeping that needs no official checkout: how
a command line's budget names its results, what a sweep passes on to each
run, per-epoch losses from our training log, and bad options."""
import os.path as osp

import pytest
import torch


def _all(parity, *options):
    return parity.parse_args([
        'all', '--models', 'samspl-t-softiou', '--data-root',
        'samspl-t-softiou=data', '--reference-root', 'samspl-t-softiou=ref',
        *options])


def test_budget_names_the_results_folder(parity):
    default = _all(parity)
    spec = parity.setting(default, 'samspl-t-softiou')
    assert (spec.epochs, spec.official_batch) == (2, 4)
    assert parity.runs_folder(default, 'samspl-t-softiou', spec) == osp.join(
        parity.RUNS_DIR, 'samspl-t-softiou', '2ep')
    # the spec's own batch given explicitly is the same budget
    same = _all(parity, '--batch', '4')
    assert parity.run_path(same, 'samspl-t-softiou', 'ours', 42) == \
        parity.run_path(default, 'samspl-t-softiou', 'ours', 42)
    other = _all(parity, '--epochs', '3', '--batch', '8')
    spec = parity.setting(other, 'samspl-t-softiou')
    assert (spec.epochs, spec.official_batch) == (3, 8)
    assert parity.run_path(other, 'samspl-t-softiou', 'official', 43) == \
        osp.join(parity.RUNS_DIR, 'samspl-t-softiou', '3ep_b8',
                 'official_seed43.json')
    smoke = _all(parity, '--batch', '8', '--limit-train', '16')
    assert parity.runs_folder(
        smoke, 'samspl-t-softiou',
        parity.setting(smoke, 'samspl-t-softiou')) == osp.join(
            parity.SMOKE_DIR, 'samspl-t-softiou', '2ep_b8_train16_testall')


def test_sweep_passes_only_the_options_given(parity):
    command = parity._run_command(_all(parity), 'samspl-t-softiou', 'ours',
                                  42, 1)
    assert '--epochs' not in command and '--batch' not in command
    command = parity._run_command(_all(parity, '--batch', '8'),
                                  'samspl-t-softiou', 'ours', 42, 1)
    assert command[command.index('--batch') + 1] == '8'
    assert '--epochs' not in command


def test_setting_trains_its_reference_model(parity):
    spec = parity.SPECS['samspl-t-softiou']
    assert parity.reference_name('samspl-t-softiou', spec) == 'samspl-t'
    assert parity.reference_name('datransnet',
                                 parity.SPECS['datransnet']) == 'datransnet'
    assert parity.CONVERTER_NAMES[parity.reference_name(
        'samspl-t-softiou', spec)] == 'samspl'


def test_epoch_losses_split_the_iteration_log_by_count(parity):
    log = [dict(loss=value, time=1.0) for value in (1, 2, 3, 4, 5, 6)]
    assert parity._epoch_losses(log, 2) == [2.0, 5.0]
    assert parity._epoch_losses(log, 3) == [1.5, 3.5, 5.5]


def test_bad_options_are_named(parity, tmp_path):
    with pytest.raises(SystemExit, match='--batch must be >= 1'):
        _all(parity, '--batch', '0')
    with pytest.raises(SystemExit, match='needs --side ours'):
        parity.parse_args([
            'run', '--model', 'datransnet', '--side', 'official', '--seed',
            '42', '--work-dir', str(tmp_path), '--data-root', 'datransnet=d',
            '--reference-root', 'datransnet=r'])
    # ours, but the folder holds no trained run
    with pytest.raises(SystemExit, match='a work dir holding a '
                       'last_checkpoint'):
        parity.parse_args([
            'run', '--model', 'datransnet', '--side', 'ours', '--seed', '42',
            '--work-dir', str(tmp_path), '--data-root', 'datransnet=d'])


def test_init_law_in_standard_errors(parity):
    # means 1 and 2, both stds sqrt(2): the means are 1 / sqrt(4 / 2)
    # standard errors apart, the stds 0
    row = parity.tensor_law(torch.tensor([0., 2.]), torch.tensor([1., 3.]))
    assert row['numel'] == 2
    assert row['z_mean'] == pytest.approx(2**-0.5)
    assert row['z_std'] == 0
    # stds 1 and 2 over 8 values: 1 / sqrt((1 + 4) / 16)
    official = torch.tensor([1., -1.] * 4) * (8 / 7)**-0.5
    row = parity.tensor_law(official, 2 * official)
    assert row['official_std'] == pytest.approx(1.0)
    assert row['z_std'] == pytest.approx(1 / (5 / 16)**0.5)
    # constants: equal, or a law of its own
    assert parity.tensor_law(torch.ones(3), torch.ones(3))['z_std'] == 0
    assert parity.tensor_law(torch.ones(3),
                             torch.zeros(3))['z_mean'] == float('inf')


def test_init_law_needs_each_checkout(parity):
    with pytest.raises(SystemExit, match='--reference-root serankdet=DIR'):
        parity.parse_args(['init-law', '--models', 'serankdet'])


def test_drift_windows_and_options(parity):
    assert parity.window_means([1, 2, 3, 4, 5, 6, 7, 8]) == [1.5, 3.5, 5.5,
                                                             7.5]
    # 5 values: runs of 2, 1, 1, 1
    assert parity.window_means([1, 3, 5, 7, 9]) == [2.0, 5.0, 7.0, 9.0]
    assert parity.window_means([4, 6]) == [4.0, 6.0]
    base = ['drift', '--model', 'samspl-t-softiou', '--reference-root',
            'samspl-t-softiou=r', '--data-root', 'samspl-t-softiou=d']
    args = parity.parse_args(base)
    assert args.steps == 100
    assert args.out.endswith('parity_drift_samspl-t-softiou_seed42.json')
    with pytest.raises(SystemExit, match='--noise-floor must differ'):
        parity.parse_args(base + ['--threads', '2'])
    with pytest.raises(SystemExit, match='--steps must be >= 1'):
        parity.parse_args(base + ['--steps', '0'])


def test_drift_config_options_reach_our_config_and_the_file_name(
        parity, tmp_path):
    from mmengine.config import Config
    key = 'model.decode_head.loss_decode.0.through_probability'
    args = parity.parse_args([
        'drift', '--model', 'samspl-t-softiou', '--reference-root',
        'samspl-t-softiou=r', '--data-root', 'samspl-t-softiou=d', '--seed',
        '43', '--cfg-options', f'{key}=True'])
    assert args.cfg_options == {key: True}
    # the plain run's file is not replaced
    assert args.out.endswith('parity_drift_samspl-t-softiou_seed43_'
                             'through_probability-True.json')
    cfg = Config.fromfile(parity.our_config(
        parity.SPECS['samspl-t-softiou'], str(tmp_path), args.cfg_options))
    assert cfg.model.decode_head.loss_decode == [
        dict(type='SigmoidBCELoss', through_probability=True),
        dict(type='SoftIoULoss', reduction='batch')]
    # the setting's own changes are kept under the options
    assert cfg.optim_wrapper.optimizer.lr == 1e-3


def test_drift_frames_in_a_seeded_order(parity, tmp_path):
    import cv2
    import numpy as np
    for split in ('trainval', 'test'):
        for sub in ('images', 'masks'):
            (tmp_path / split / sub).mkdir(parents=True)
    stems = ['a', 'b', 'c']
    for value, stem in enumerate(stems):
        frame = np.full((4, 5), 10 * (value + 1), np.uint8)
        mask = np.zeros((4, 5), np.uint8)
        mask[value, value] = 255
        cv2.imwrite(str(tmp_path / 'trainval/images' / f'{stem}.png'), frame)
        cv2.imwrite(str(tmp_path / 'trainval/masks' / f'{stem}.png'), mask)
    frames, masks = parity.drift_frames(str(tmp_path), 'trainval', 2, seed=7)
    order = np.random.default_rng(7).permutation(3)[:2]
    assert [int(f[0, 0]) for f in frames] == [10 * (i + 1) for i in order]
    for index, mask in zip(order, masks):
        assert mask.dtype == torch.uint8 and int(mask.sum()) == 1
        assert int(mask[index, index]) == 1


def test_drift_probe_statistics(parity):
    # two 4x4 maps: one hits its one-pixel target, one marks nothing
    probability = torch.full((2, 4, 4), 0.1)
    probability[0, 1, 2] = 0.9
    probability[1, 3, 3] = 0.3
    masks = torch.zeros(2, 4, 4, dtype=torch.uint8)
    masks[0, 1, 2] = masks[1, 0, 0] = 1
    probe = parity._probe(probability, masks)
    assert probe['positive_share'] == pytest.approx(1 / 32)
    assert probe['mean_max'] == pytest.approx((0.9 + 0.3) / 2)
    at_half = probe['scores']['threshold_0.5']
    assert at_half['IoU'] == pytest.approx(1 / 2)  # 1 hit, 1 miss
    assert at_half['Pd'] == pytest.approx(1 / 2)
    # per-image max: the second map's maximum (3, 3) becomes a false alarm
    # (Fa in 1e-6 of all pixels)
    assert probe['scores']['per_image_max']['Fa'] == pytest.approx(1e6 / 32)
