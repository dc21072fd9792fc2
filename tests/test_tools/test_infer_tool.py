"""tools/infer.py: files written, target lists, unreadable files, no
overwriting, hostile input."""
import errno
import io
import json
import os
import os.path as osp
import shutil
import subprocess
import sys

import cv2
import numpy as np
import pytest
import torch

from serankdet.apis import init_model
from serankdet.cli import run_cli
from serankdet.datasets.synthetic import write_synthetic_dataset
from serankdet.models.segmentors.irstd_segmentor import IRSTDSegmentor
from serankdet.visualization.irstd_visualizer import LEGEND_HEIGHT
from tests.conftest import REPO_ROOT
from tools.infer import main as infer_main
from tests.tool_runner import DEMO_CONFIG

TARGET_KEYS = {'centroid', 'bbox', 'area', 'peak_score', 'mean_score'}


@pytest.fixture(scope='module')
def setup(tmp_path_factory):
    """Synthetic frames (8-bit and 16-bit) and a random-weight U-Net."""
    root = tmp_path_factory.mktemp('infer')
    meta = write_synthetic_dataset(str(root / 'synthetic'), num_train=0,
                                   num_test=6, img_size=(48, 64), seed=2)
    frames = root / 'frames'
    shutil.copytree(root / 'synthetic' / 'test' / 'images', frames / 'a')
    (frames / 'b').mkdir()
    for stem in ('test_00000', 'test_00001'):  # the same scenes in 16 bit
        img = cv2.imread(str(frames / 'a' / f'{stem}.png'),
                         cv2.IMREAD_UNCHANGED)
        cv2.imwrite(str(frames / 'b' / f'{stem}.png'),
                    img.astype(np.uint16) * 257)
    torch.manual_seed(0)
    checkpoint = str(root / 'unet.pth')
    torch.save(dict(state_dict=init_model(DEMO_CONFIG).state_dict()),
               checkpoint)
    return dict(root=root, frames=frames, checkpoint=checkpoint, meta=meta)


@pytest.mark.smoke
def test_cli_writes_results_and_reports_unreadable_files(setup, tmp_path):
    frames = tmp_path / 'frames'
    shutil.copytree(setup['frames'], frames)
    (frames / 'a' / 'broken.png').write_bytes(b'\x89PNG truncated')
    out = tmp_path / 'out'
    args = [sys.executable, 'tools/infer.py', DEMO_CONFIG,
            setup['checkpoint'], str(frames), '--out-dir', str(out),
            '--save-prob', '--save-overlay', '--batch-size', '3',
            '--threshold', '0.4']
    result = subprocess.run(
        args, cwd=REPO_ROOT, capture_output=True, text=True, timeout=300,
        env=dict(os.environ, PYTHONPATH=REPO_ROOT, OMP_NUM_THREADS='1'))
    assert result.returncode == 1, result.stderr[-3000:]
    assert '1 file(s) could not be processed' in result.stderr
    assert 'broken.png: cannot decode' in result.stderr
    assert '8 frames' in result.stdout and 'frames/s' in result.stdout
    with open(out / 'targets.json') as handle:
        report = json.load(handle)
    assert report['run']['threshold'] == 0.4
    assert len(report['failed']) == 1
    assert report['failed'][0]['file'] == str(frames / 'a' / 'broken.png')
    assert 'cannot decode' in report['failed'][0]['error']
    names = [f['name'] for f in report['frames']]
    assert names == [f'a/test_0000{i}' for i in range(6)] + [
        'b/test_00000', 'b/test_00001']
    for entry in report['frames']:
        assert (entry['height'], entry['width']) == (48, 64)
        for target in entry['targets']:
            assert set(target) == TARGET_KEYS
        mask = cv2.imread(str(out / 'masks' / f'{entry["name"]}.png'),
                          cv2.IMREAD_UNCHANGED)
        assert mask.dtype == np.uint8 and set(np.unique(mask)) <= {0, 255}
        prob = cv2.imread(str(out / 'probs' / f'{entry["name"]}.png'),
                          cv2.IMREAD_UNCHANGED)
        assert prob.dtype == np.uint16
        np.testing.assert_array_equal(mask > 0, prob > 0.4 * 65535 + 1)
        overlay = cv2.imread(str(out / 'overlays' / f'{entry["name"]}.png'))
        assert overlay.shape == (48 * 6 + LEGEND_HEIGHT, 64 * 6, 3)  # enlarged
    # a 16-bit frame gives the 8-bit frame's result
    by_name = {f['name']: f for f in report['frames']}
    targets_16 = by_name['b/test_00001']['targets']
    targets_8 = by_name['a/test_00001']['targets']
    assert len(targets_16) == len(targets_8)
    for ours, theirs in zip(targets_16, targets_8):
        assert ours.keys() == theirs.keys()
        for key in ours:
            assert ours[key] == pytest.approx(theirs[key])


@pytest.mark.smoke
def test_targets_match_the_generator(setup, tmp_path, monkeypatch, capsys):
    """With a stand-in model that thresholds its input and frames that are
    the generator's masks (8-bit and 16-bit), targets.json must list the
    generator's targets: same centroids (x, y) and areas."""
    monkeypatch.setattr(
        IRSTDSegmentor, 'encode_decode',
        lambda self, inputs, batch_img_metas=None: inputs[:, :1] * 4.0)
    masks = tmp_path / 'masks'
    shutil.copytree(setup['root'] / 'synthetic' / 'test' / 'masks', masks)
    for path in sorted(masks.iterdir())[:3]:
        mask = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
        cv2.imwrite(str(path.with_suffix('.tif')),
                    (mask > 0).astype(np.uint16) * 65535)
        path.unlink()
    out = tmp_path / 'out'
    # demo preprocessing: (x - 0.5) / 0.25, so targets get logit +8
    assert infer_main([DEMO_CONFIG, setup['checkpoint'], str(masks),
                       '--out-dir', str(out), '--batch-size', '4']) == 0
    with open(out / 'targets.json') as handle:
        frames = json.load(handle)['frames']
    expected = setup['meta']['targets']['test']
    assert [f['name'] for f in frames] == sorted(expected)
    assert sum(len(t) for t in expected.values()) >= 6
    for entry in frames:
        found = sorted(t['centroid'] + [t['area']] for t in entry['targets'])
        truth = sorted([t['centroid_yx'][1], t['centroid_yx'][0], t['area']]
                       for t in expected[entry['name']])
        np.testing.assert_allclose(found, truth, atol=1e-9)
        for target in entry['targets']:
            assert target['peak_score'] == pytest.approx(1 / (1 + np.exp(-8)))
    assert f'{len(frames)} frames' in capsys.readouterr().out


def test_never_overwrites_and_jsonl_and_tiles(setup, tmp_path, capsys):
    out = tmp_path / 'out'
    out.mkdir()
    (out / 'mine.txt').write_text('keep')
    args = [DEMO_CONFIG, setup['checkpoint'], str(setup['frames'] / 'a' /
                                                   'test_0000[01].png'),
            '--out-dir', str(out), '--jsonl', '--tile', '32', '32',
            '--overlap', '8']
    assert infer_main(args) == 0
    assert infer_main(args) == 0
    runs = sorted(p for p in out.iterdir() if p.is_dir())
    assert len(runs) == 2 and (out / 'mine.txt').read_text() == 'keep'
    assert 'already holds files: writing into' in capsys.readouterr().out
    for run in runs:
        lines = (run / 'targets.jsonl').read_text().splitlines()
        assert [json.loads(line)['name'] for line in lines] == [
            'test_00000', 'test_00001']
        assert osp.isfile(run / 'masks' / 'test_00001.png')


def test_no_input_is_an_error(setup, tmp_path, capsys):
    assert run_cli(infer_main, [DEMO_CONFIG, setup['checkpoint'],
                                str(tmp_path / 'none' / '*.png')]) == 2
    err = capsys.readouterr().err
    assert err.startswith('error: ') and 'no image' in err


# --- hostile input (issue 29) ---

def run_infer(args, cwd=REPO_ROOT):
    """tools/infer.py in a fresh process (a crash cannot take pytest
    down)."""
    return subprocess.run(
        [sys.executable, 'tools/infer.py'] + args, cwd=cwd,
        capture_output=True, timeout=300,
        env=dict(os.environ, PYTHONPATH=REPO_ROOT, OMP_NUM_THREADS='1'))


def test_names_that_are_not_utf8(setup, tmp_path):
    """A frame named ``b\\xff.png`` crashed cv2.imwrite (segmentation
    fault): it is read and its outputs written under its own bytes."""
    frames = os.fsencode(str(tmp_path / 'frames'))
    os.mkdir(frames)
    good = str(setup['frames'] / 'a' / 'test_00000.png')
    shutil.copy(good, frames + b'/b\xff.png')
    shutil.copy(good, frames + b'/good.png')
    out = tmp_path / 'out'
    result = run_infer([DEMO_CONFIG, setup['checkpoint'],
                        os.fsdecode(frames), '--out-dir', str(out),
                        '--save-overlay', '--save-prob', 'npy'])
    assert result.returncode == 0, result.stderr[-3000:]
    assert b'2 frames' in result.stdout
    for folder, ext in (('masks', b'.png'), ('overlays', b'.png'),
                        ('probs', b'.npy')):
        assert sorted(os.listdir(os.fsencode(str(out / folder)))) == [
            b'b\xff' + ext, b'good' + ext]
    mask = cv2.imdecode(np.fromfile(os.fsdecode(
        os.fsencode(str(out)) + b'/masks/b\xff.png'), np.uint8), 0)
    np.testing.assert_array_equal(mask, cv2.imread(str(out / 'masks' /
                                                       'good.png'), 0))
    with open(out / 'targets.json') as handle:
        names = [f['name'] for f in json.load(handle)['frames']]
    assert [os.fsencode(name) for name in names] == [b'b\xff', b'good']


def test_same_stem_two_extensions_keep_their_extension(setup, tmp_path):
    frames = tmp_path / 'frames'
    frames.mkdir()
    image = cv2.imread(str(setup['frames'] / 'a' / 'test_00000.png'), 0)
    cv2.imwrite(str(frames / 'dup.png'), image)
    cv2.imwrite(str(frames / 'dup.tif'), image[:, :32])
    cv2.imwrite(str(frames / 'one.png'), image)
    out = tmp_path / 'out'
    assert infer_main([DEMO_CONFIG, setup['checkpoint'], str(frames),
                       '--out-dir', str(out)]) == 0
    with open(out / 'targets.json') as handle:
        frames_done = json.load(handle)['frames']
    assert [(f['name'], f['width']) for f in frames_done] == [
        ('dup.png', 64), ('dup.tif', 32), ('one', 64)]
    assert sorted(os.listdir(out / 'masks')) == [
        'dup.png.png', 'dup.tif.png', 'one.png']
    assert cv2.imread(str(out / 'masks' / 'dup.tif.png'), 0).shape == (48,
                                                                        32)


def test_a_full_disk_stops_with_the_frames_done_listed(setup, tmp_path,
                                                       monkeypatch, capsys):
    """The disk fills while the probability map of the second frame is
    written: one error line, the first frame listed in targets.json, and
    no partial or orphan file (the second frame's mask is removed)."""
    from serankdet.datasets import image_io
    calls = []

    class FullDisk(io.FileIO):
        def write(self, data):
            super().write(bytes(data)[:len(data) // 2])
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    def full_at_fifth_file(path, mode):
        calls.append(path)
        return FullDisk(path, 'wb') if len(calls) == 5 else open(path, mode)

    monkeypatch.setattr(image_io, 'open', full_at_fifth_file, raising=False)
    out = tmp_path / 'out'
    # files: mask 0, probs 0, targets.json, mask 1, probs 1 (fails), then
    # targets.json again
    status = run_cli(infer_main, [
        DEMO_CONFIG, setup['checkpoint'], str(setup['frames'] / 'a'),
        '--out-dir', str(out), '--save-prob', 'npy'])
    captured = capsys.readouterr()
    assert status == 2
    assert captured.err.splitlines()[0] == (
        f'error: the disk is full writing {out}/probs/test_00001.npy; free '
        'some space and run again')
    assert (f'stopped at {setup["frames"]}/a/test_00001.png: 1 of 6 frames '
            f'are listed in {out}/targets.json') in captured.out
    assert [osp.basename(path) for path in calls] == [
        '.test_00000.png.partial', '.test_00000.npy.partial',
        '.targets.json.partial', '.test_00001.png.partial',
        '.test_00001.npy.partial', '.targets.json.partial']
    with open(out / 'targets.json') as handle:
        report = json.load(handle)
    assert [f['name'] for f in report['frames']] == ['test_00000']
    written = sorted(str(p.relative_to(out)) for p in out.rglob('*'))
    assert written == ['masks', 'masks/test_00000.png', 'probs',
                       'probs/test_00000.npy', 'targets.json']
    assert np.load(out / 'probs' / 'test_00000.npy').shape == (48, 64)


def test_out_dir_inside_the_input_is_never_read(setup, tmp_path, capsys):
    frames = tmp_path / 'frames'
    shutil.copytree(setup['frames'] / 'b', frames)
    args = [DEMO_CONFIG, setup['checkpoint'], str(frames), '--out-dir',
            str(frames / 'out')]
    assert infer_main(args) == 0
    assert infer_main(args) == 0  # into out/<timestamp>
    out = capsys.readouterr().out
    assert f'skipped {frames}/out: excluded (the output folder)' in out
    runs = [frames / 'out'] + [p for p in (frames / 'out').iterdir()
                               if p.is_dir() and p.name[0].isdigit()]
    assert len(runs) == 2
    for run in runs:
        with open(run / 'targets.json') as handle:
            assert [f['name'] for f in json.load(handle)['frames']] == [
                'test_00000', 'test_00001']


def test_bad_out_dir_device_and_odd_entries(setup, tmp_path, capsys):
    frames = tmp_path / 'frames'
    shutil.copytree(setup['frames'] / 'b', frames)
    os.mkfifo(frames / 'camera.png')  # reading it would block forever
    os.symlink('gone.png', frames / 'dangling.png')
    (tmp_path / 'file').write_text('not a folder')
    assert run_cli(infer_main, [DEMO_CONFIG, setup['checkpoint'],
                                str(frames), '--out-dir',
                                str(tmp_path / 'file')]) == 2
    assert capsys.readouterr().err.splitlines()[0] == (
        f'error: --out-dir {tmp_path}/file is a file, not a folder: give a '
        'new or empty folder')
    if not torch.cuda.is_available():
        assert run_cli(infer_main, [DEMO_CONFIG, setup['checkpoint'],
                                    str(frames), '--device', 'cuda:0']) == 2
        assert capsys.readouterr().err.startswith(
            "error: device 'cuda:0': this machine has 0 CUDA GPU(s)")
    out = tmp_path / 'out'
    assert infer_main([DEMO_CONFIG, setup['checkpoint'], str(frames),
                       '--out-dir', str(out)]) == 0
    printed = capsys.readouterr().out
    assert f'skipped {frames}/camera.png: not a regular file' in printed
    assert f'skipped {frames}/dangling.png: a dangling link' in printed
    assert '2 frames' in printed
