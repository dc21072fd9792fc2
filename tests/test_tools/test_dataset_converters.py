"""tools/dataset_converters/<dataset>.py: the real SIRST and NUDT-SIRST
(../shared/datasets) rearranged into their release forms convert back to
exactly the shared copies; the tools print the counts and what to run
next, and answer --help before importing anything heavy."""
import os
import os.path as osp
import subprocess
import zipfile

import pytest

from tests.conftest import REPO_ROOT
from tests.tool_runner import run_tool_cli


def link_tree(pairs):
    """Symbolic links ``target -> source`` (the release form is built from
    the shared files without copying them)."""
    for source, target in pairs:
        os.makedirs(osp.dirname(target), exist_ok=True)
        os.symlink(osp.abspath(source), target)


def files_below(folder):
    return sorted(
        osp.relpath(osp.join(current, name), folder)
        for current, _, names in os.walk(folder) for name in names
        if not name.startswith('.'))


def assert_same_files(converted, shared):
    """Every image and mask of the shared copy, and nothing else, byte for
    byte."""
    expected = [f for split in ('trainval', 'test')
                for f in files_below(osp.join(shared, split))]
    names = [f for split in ('trainval', 'test')
             for f in files_below(osp.join(converted, split))]
    assert names == expected
    for split in ('trainval', 'test'):
        for rel in files_below(osp.join(shared, split)):
            with open(osp.join(converted, split, rel), 'rb') as ours, \
                    open(osp.join(shared, split, rel), 'rb') as theirs:
                assert ours.read() == theirs.read(), rel
    return len(names)


def sirst_release(shared, root):
    """SIRST as its authors publish it: images/, masks/<stem>_pixels0.png
    (Misc_111 with the v1 release's wrongly sized mask), idx_427/,
    idx_320/."""
    pairs = []
    for split in ('trainval', 'test'):
        for name in os.listdir(osp.join(shared, split, 'images')):
            stem = osp.splitext(name)[0]
            pairs.append((osp.join(shared, split, 'images', name),
                          osp.join(root, 'images', name)))
            mask = (osp.join(shared, 'extras', 'v1_original_mask',
                             'Misc_111_pixels0.png') if stem == 'Misc_111'
                    else osp.join(shared, split, 'masks', name))
            pairs.append((mask, osp.join(root, 'masks',
                                         f'{stem}_pixels0.png')))
    for split in ('idx_427', 'idx_320'):
        for name in ('trainval.txt', 'test.txt'):
            pairs.append((osp.join(shared, 'splits', split, name),
                          osp.join(root, split, name)))
    link_tree(pairs)


def test_sirst_round_trip(shared_datasets_dir, tmp_path, capsys):
    shared = osp.join(shared_datasets_dir, 'SIRST')
    src, dst = str(tmp_path / 'sirst'), str(tmp_path / 'SIRST')
    sirst_release(shared, src)
    assert run_tool_cli('dataset_converters/sirst', src, dst) == 2
    err = capsys.readouterr().err
    assert err.startswith(
        f"error: {src} (the authors' release: images/ (or images.zip), "
        'masks/<stem>_pixels0.png (or masks.zip), idx_427/ and idx_320/ split '
        'files, split idx_427): 1 problem, nothing was written:\n'
        '  masks/Misc_111_pixels0.png: mask is 592x400 but its image '
        'images/Misc_111.png is 325x220 (WxH): a known mistake of the SIRST '
        'v1 release')
    assert not osp.exists(dst)
    fixed = str(tmp_path / 'Misc_111_pixels0.png')  # as downloaded from V2
    os.symlink(osp.join(shared, 'test', 'masks', 'Misc_111.png'), fixed)
    assert run_tool_cli('dataset_converters/sirst', src, dst,
                        '--replace-mask', f'Misc_111={fixed}') == 0
    out = capsys.readouterr().out
    assert '  trainval: 341 image/mask pairs\n  test: 86 image/mask pairs\n' \
        f'written to {dst} (854 hard links; the source is unchanged)\n' in out
    assert (f'check: python tools/misc/check_dataset.py {dst}\n'
            'dataset config: configs/_base_/datasets/sirst.py\n'
            'train: python tools/train.py configs/') in out
    assert (f' --cfg-options train_dataloader.dataset.data_root={dst} '
            f'val_dataloader.dataset.data_root={dst} '
            f'test_dataloader.dataset.data_root={dst}\n') in out
    assert assert_same_files(dst, shared) == 854
    assert run_tool_cli('misc/check_dataset', dst) == 0
    assert 'no problems found' in capsys.readouterr().out


def test_sirst_round_trip_from_repository_archive(shared_datasets_dir,
                                                  tmp_path, capsys):
    """The newer release form: images.zip and masks.zip inside the
    repository's archive; every file comes out of the archives byte for
    byte."""
    shared = osp.join(shared_datasets_dir, 'SIRST')
    folder = str(tmp_path / 'sirst')
    sirst_release(shared, folder)
    archive = str(tmp_path / 'sirst-master.zip')
    with zipfile.ZipFile(archive, 'w', zipfile.ZIP_STORED) as repo:
        for kind in ('images', 'masks'):
            inner = str(tmp_path / f'{kind}.zip')
            with zipfile.ZipFile(inner, 'w', zipfile.ZIP_STORED) as handle:
                for name in sorted(os.listdir(osp.join(folder, kind))):
                    handle.write(osp.join(folder, kind, name),
                                 f'{kind}/{name}')
                    handle.writestr(f'__MACOSX/{kind}/._{name}', b'\0')
            repo.write(inner, f'sirst-master/{kind}.zip')
        for split in ('idx_427', 'idx_320'):
            for name in ('trainval.txt', 'test.txt'):
                repo.write(osp.join(folder, split, name),
                           f'sirst-master/{split}/{name}')
    fixed = str(tmp_path / 'Misc_111_pixels0.png')
    os.symlink(osp.join(shared, 'test', 'masks', 'Misc_111.png'), fixed)
    dst = str(tmp_path / 'out')
    assert run_tool_cli('dataset_converters/sirst', archive, '--copy', dst,
                        '--replace-mask', f'Misc_111={fixed}') == 0
    assert (f'written to {dst} (1 copies, 853 files extracted from '
            'archives; the source is unchanged)') in capsys.readouterr().out
    assert assert_same_files(dst, shared) == 854
    assert sorted(os.listdir(tmp_path)) == [
        'Misc_111_pixels0.png', 'images.zip', 'masks.zip', 'out', 'sirst',
        'sirst-master.zip']


def test_nudt_sirst_round_trip(shared_datasets_dir, tmp_path, capsys):
    """DNANet's release: images/, masks/, 50_50/ (CRLF split files)."""
    shared = osp.join(shared_datasets_dir, 'NUDT-SIRST')
    src = str(tmp_path / 'NUDT-SIRST')
    pairs = [(osp.join(shared, split, kind, name), osp.join(src, kind, name))
             for split in ('trainval', 'test') for kind in ('images', 'masks')
             for name in os.listdir(osp.join(shared, split, kind))]
    pairs += [(osp.join(shared, 'splits', '50_50', name),
               osp.join(src, '50_50', name))
              for name in ('train.txt', 'test.txt')]
    link_tree(pairs)
    dst = str(tmp_path / 'out')
    assert run_tool_cli('dataset_converters/nudt_sirst', src, dst) == 0
    out = capsys.readouterr().out
    assert ("the authors' (DNANet's) release: images/, masks/, "
            '50_50/{train,test}.txt; split dnanet_50_50\n'
            '  trainval: 663 image/mask pairs\n'
            '  test: 664 image/mask pairs\n') in out
    assert assert_same_files(dst, shared) == 2654


def test_bad_arguments_are_one_error_line(tmp_path, capsys):
    missing = str(tmp_path / 'IRSTD-1k.zip')
    assert run_tool_cli('dataset_converters/irstd1k', missing,
                        str(tmp_path / 'out')) == 2
    assert capsys.readouterr().err == (
        f'error: {missing} does not exist: give the downloaded archive or '
        'the folder it was extracted to (https://github.com/RuiZhang97/'
        'ISNet)\n(set SERANKDET_DEBUG=1 to see the traceback)\n')
    with pytest.raises(SystemExit) as info:
        run_tool_cli('dataset_converters/sirst', 'src', '--replace-mask',
                     'Misc_111')
    assert info.value.code == 2
    assert ("argument --replace-mask: expected STEM=FILE (e.g. "
            "Misc_111=Misc_111_pixels0.png), got 'Misc_111'"
            in capsys.readouterr().err)


@pytest.mark.parametrize('dataset', [
    'sirst', 'nudt_sirst', 'irstd1k', 'sirst_aug', 'nudt_sea', 'irstdid_sky',
    'sirst_v2'])
def test_help_before_heavy_imports(dataset, python):
    code = ('import runpy, sys\n'
            f"sys.argv = ['{dataset}.py', '--help']\n"
            'try:\n'
            f"    runpy.run_path('tools/dataset_converters/{dataset}.py', "
            "run_name='__main__')\n"
            'except SystemExit as exit:\n'
            '    assert exit.code == 0\n'
            "print('heavy:', sorted(m for m in ('torch', 'mmseg', 'mmengine',"
            " 'cv2') if m in sys.modules))\n")
    result = subprocess.run([python, '-c', code], cwd=REPO_ROOT,
                            capture_output=True, text=True, timeout=120,
                            env=dict(os.environ, PYTHONPATH=REPO_ROOT))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith('usage: ')
    assert 'SRC as downloaded' in result.stdout
    assert result.stdout.endswith('heavy: []\n')


def small_sirst(tmp_path):
    from tests.test_datasets.test_releases import sirst_release
    return sirst_release(tmp_path / 'sirst').root


def test_full_disk_is_one_error_line_and_leaves_nothing(tmp_path, capsys,
                                                        monkeypatch):
    import errno
    import serankdet.datasets.releases as releases
    from tests.test_datasets.test_releases import zip_folder
    archive = str(tmp_path / 'sirst.zip')
    zip_folder(small_sirst(tmp_path), archive, junk=False)

    def full_disk(src, dst, length=0):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(releases.shutil, 'copyfileobj', full_disk)
    assert run_tool_cli('dataset_converters/sirst', archive,
                        str(tmp_path / 'out')) == 2
    assert capsys.readouterr().err.splitlines()[0] == (
        'error: the disk is full; free some space and run again')
    assert sorted(os.listdir(tmp_path)) == ['sirst', 'sirst.zip']


def test_output_piped_to_head_is_one_error_line(tmp_path, python):
    """The reader of the output (here one that closes the pipe at once,
    as ``head`` does after its lines) goes away before the report."""
    src = small_sirst(tmp_path)
    result = subprocess.run(
        f'{python} tools/dataset_converters/sirst.py {src} {tmp_path}/out '
        '| true', shell=True, cwd=REPO_ROOT, capture_output=True,
        text=True, timeout=120, env=dict(os.environ, PYTHONPATH=REPO_ROOT))
    assert result.stderr == (
        'error: the output pipe was closed (e.g. by `| head`) before the '
        'tool finished writing; run it without the pipe to see all of it\n')
    assert osp.isdir(tmp_path / 'out' / 'trainval')


def test_run_from_another_folder_says_where(tmp_path, capsys, monkeypatch):
    src = small_sirst(tmp_path)
    monkeypatch.chdir(tmp_path)
    assert run_tool_cli('dataset_converters/sirst', src) == 0
    out = capsys.readouterr().out
    dst = tmp_path / 'datasets' / 'SIRST'
    assert f'written to {dst} (10 hard links; ' in out
    assert (f'run these from {REPO_ROOT}:\n'
            f'check: python tools/misc/check_dataset.py {dst}\n') in out
    assert f'test_dataloader.dataset.data_root={dst}' in out


def test_next_steps_list_the_configs_that_train_on_the_dataset():
    """Inherited through other configs or by data root; a config that
    points the data root elsewhere is not listed, nor what inherits it."""
    from serankdet.cli.dataset_converter import experiment_configs
    from serankdet.datasets.releases import DATASET_RELEASES
    names = {k: [osp.basename(p) for p in experiment_configs(spec)]
             for k, spec in DATASET_RELEASES.items()}
    # the ACM config through _base_/datasets/basicirstd_sirst_v2_negatives,
    # the SeRankDet ones by data_root on a SIRST config
    assert names['sirst_v2'] == [
        'acm_1xb16-400e_sirst-v2-negatives-256x256.py',
        'serankdet-w8_1xb4-10k_sirst-v2-hard-negatives-256x256.py',
        'serankdet-w8_1xb4-10k_sirst-v2-negatives-256x256.py']
    assert 'acm_1xb16-400e_sirst-256x256.py' in names['sirst']
    assert not [n for n in names['sirst'] if '5050' in n or 'v2' in n]
