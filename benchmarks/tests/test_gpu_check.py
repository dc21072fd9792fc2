"""``benchmarks/gpu_check.py``, the GPU self-check: what runs without a
GPU (the report, the JSON, the table, the skip messages) and its checks
run on the CPU where they can."""
import json

import pytest
import torch


@pytest.mark.skipif(torch.cuda.is_available(), reason='checks the CPU path')
def test_without_cuda_every_gpu_check_is_skipped(gpu_check, tmp_path,
                                                 capsys):
    out = tmp_path / 'gpu_check.json'
    assert gpu_check.main(['--out', str(out)]) == 0
    report = json.loads(out.read_text())
    assert report['environment']['cuda_available'] is False
    assert report['environment']['torch'] == torch.__version__
    for check in gpu_check.CHECKS:
        assert report[check] == dict(
            status='skipped', reason='no CUDA device: runs on a GPU only')
    lines = capsys.readouterr().out.splitlines()
    skipped = [line.split()[:2] for line in lines if ' skipped ' in line]
    assert skipped == [[check, 'skipped'] for check in gpu_check.CHECKS]
    assert lines[-1] == f'written to {out}'


def test_golden_cases_cover_every_model_but_the_demo(gpu_check):
    assert sorted(gpu_check.golden_cases()) == sorted(
        name for name in gpu_check.BENCH_MODELS if name != 'unet')


@pytest.mark.parametrize('name', ['acm', 'mshnet'])
def test_golden_check_on_cpu(gpu_check, name):
    """The golden comparison on the CPU (one thread, as the model tests):
    within tolerance, TF32 (a CUDA setting) changes nothing."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        record = gpu_check.check_golden(name, 'cpu')
    finally:
        torch.set_num_threads(threads)
    assert record['status'] == 'passed'
    assert record['max_diff_fp32'] <= 1e-6
    assert record['max_diff_tf32_vs_fp32'] == 0


def test_amp_train_check_on_cpu(gpu_check):
    """The --amp training steps on the CPU: bfloat16 autocast (no loss
    scaling there), finite losses."""
    record = gpu_check.check_amp_train('acm', 'cpu', steps=2, size=64)
    assert record['optim_wrapper'] == 'AutocastOptimWrapper'
    assert record['loss_scale'] is None
    assert len(record['losses']) == 2 and record['status'] == 'passed'


@pytest.mark.slow
def test_speed_check_on_cpu(gpu_check, tmp_path):
    """images/s from bench_models.py's timings (4 frames per step)."""
    record = gpu_check.check_speed(['acm'], {}, str(tmp_path / 'speed.json'),
                                   device='cpu', runs=1)
    assert record['status'] == 'passed', record
    speed = record['models']['acm']
    assert sorted(speed) == ['ours_infer4_images_per_s',
                             'ours_train_images_per_s']
    records = json.loads((tmp_path / 'speed.json').read_text())['records']
    train = next(r for r in records if r['phase'] == 'train')
    assert speed['ours_train_images_per_s'] == 4 / train['median_s']


def test_failed_checks_fail_the_run(gpu_check):
    assert gpu_check.all_passed(dict(status='skipped', reason='x'))
    assert gpu_check.all_passed(dict(acm=dict(status='passed')))
    assert not gpu_check.all_passed(
        dict(acm=dict(status='passed'), dnanet=dict(status='failed')))
    assert not gpu_check.all_passed(dict(status='failed'))
