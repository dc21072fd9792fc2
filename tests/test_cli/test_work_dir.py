"""Work folders: a run failing before any result leaves nothing behind,
a run with results keeps everything, earlier entries are never touched."""
import os

import pytest

from serankdet.cli import tidy_if_failed_early


def _fail_creating(work_dir, *files):
    with pytest.raises(RuntimeError, match='boom'):
        with tidy_if_failed_early(str(work_dir)):
            for name in files:
                path = work_dir / name
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text('x')
            raise RuntimeError('boom')


def test_failed_start_in_a_new_folder_removes_it(tmp_path):
    work = tmp_path / 'work'
    _fail_creating(work, '20261201_000000/20261201_000000.log',
                   '20261201_000000/vis_data/config.py', 'cfg.py')
    assert not work.exists()


def test_failed_start_keeps_earlier_runs(tmp_path):
    work = tmp_path / 'work'
    (work / 'old_run').mkdir(parents=True)
    (work / 'iter_10.pth').write_text('old')
    _fail_creating(work, '20261201_000000/20261201_000000.log')
    assert sorted(os.listdir(work)) == ['iter_10.pth', 'old_run']


@pytest.mark.parametrize('result', ['iter_2.pth', 'last_checkpoint',
                                    '20261201_000000/vis_data/scalars.json'])
def test_run_with_results_keeps_everything(tmp_path, result):
    work = tmp_path / 'work'
    _fail_creating(work, '20261201_000000/20261201_000000.log', result)
    assert (work / result).exists()
    assert (work / '20261201_000000' / '20261201_000000.log').exists()


def test_success_changes_nothing(tmp_path):
    work = tmp_path / 'work'
    with tidy_if_failed_early(str(work)):
        (work / 'run').mkdir(parents=True)
    assert (work / 'run').is_dir()


def test_only_rank_zero_removes(tmp_path, monkeypatch):
    monkeypatch.setenv('RANK', '1')
    work = tmp_path / 'work'
    _fail_creating(work, 'run/x.log')
    assert (work / 'run' / 'x.log').exists()
