"""``benchmarks/short_schedule.py`` bookkeeping: which earlier run a
stopped sweep continues."""
import json
import os
import os.path as osp


def _run(short_schedule, runs_dir, name, text, checkpoint='epoch_2.pth',
         scored=False, mtime=0):
    """A work dir as a run leaves it: its config, optionally a checkpoint
    named by ``last_checkpoint`` and the test scores."""
    work_dir = osp.join(runs_dir, name)
    config = short_schedule.config_path('acm', work_dir)
    os.makedirs(osp.dirname(config))
    with open(config, 'w') as handle:
        handle.write(text)
    if checkpoint:
        with open(osp.join(work_dir, checkpoint), 'wb') as handle:
            handle.write(b'weights')
        with open(osp.join(work_dir, 'last_checkpoint'), 'w') as handle:
            handle.write(osp.join(work_dir, checkpoint))
    if scored:
        with open(osp.join(work_dir, 'test_metrics.json'), 'w') as handle:
            handle.write('{}')
    os.utime(work_dir, (mtime, mtime))
    return work_dir


def test_a_stopped_run_with_the_same_config_is_continued(short_schedule,
                                                         tmp_path):
    args = short_schedule.parse_args(['--models', 'acm', '--data-root',
                                      str(tmp_path / 'SIRST')])
    text = short_schedule.short_config_text('acm', args)
    # every epoch is checkpointed, so a stop loses at most one epoch
    assert 'interval=1' in text and 'max_epochs=4' in text
    runs = str(tmp_path / 'runs')
    assert short_schedule.stopped_run('acm', text, runs) is None
    # not continued: scored, another budget, no checkpoint yet, a
    # last_checkpoint naming a file that is gone
    _run(short_schedule, runs, 'acm_1', text, scored=True, mtime=500)
    _run(short_schedule, runs, 'acm_2', text.replace('max_epochs=4',
                                                     'max_epochs=8'),
         mtime=400)
    _run(short_schedule, runs, 'acm_3', text, checkpoint=None, mtime=300)
    gone = _run(short_schedule, runs, 'acm_4', text, mtime=200)
    os.remove(osp.join(gone, 'epoch_2.pth'))
    assert short_schedule.stopped_run('acm', text, runs) is None
    # of two stopped runs the newest is continued
    _run(short_schedule, runs, 'acm_5', text, mtime=100)
    newest = _run(short_schedule, runs, 'acm_6', text, mtime=150)
    assert short_schedule.stopped_run('acm', text, runs) == newest
    # another model's runs are not looked at
    assert short_schedule.stopped_run('alcnet', text, runs) is None


def test_force_runs_a_recorded_model_again(short_schedule, tmp_path,
                                           monkeypatch):
    """``--force`` (what ``docs/claims.yml`` reruns a README number with)
    runs a model whose record is there and replaces it; without it the
    record is kept."""
    (tmp_path / 'SIRST' / 'trainval').mkdir(parents=True)
    monkeypatch.setattr(short_schedule, 'RESULTS_ROOT', str(tmp_path))
    runs = []

    def run_model(model, args):
        runs.append(model)
        return dict(model=model, run=len(runs))

    monkeypatch.setattr(short_schedule, 'run_model', run_model)
    monkeypatch.setattr(short_schedule, 'print_table', lambda rows: None)
    (tmp_path / '4ep').mkdir()
    (tmp_path / '4ep' / 'acm.json').write_text('{"model": "acm", "run": 0}')
    argv = ['--models', 'acm', '--data-root', str(tmp_path / 'SIRST')]
    short_schedule.main(argv)
    assert runs == []
    short_schedule.main(argv + ['--force'])
    assert runs == ['acm']
    with open(tmp_path / '4ep.json') as handle:
        assert json.load(handle) == dict(rows=[dict(model='acm', run=1)])
