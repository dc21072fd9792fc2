"""Videos and frame sequences: reading, per-frame results equal to image
inference, natural order, the reader/writer threads, tools/infer.py on a
clip (JSON lines, annotated video, killed and stopped runs, bad input)."""
import errno
import json
import os
import signal
import subprocess
import sys
import time

import cv2
import numpy as np
import pytest

from serankdet.apis import IRSTDInferencer
from serankdet.apis.video import (BackgroundWorker, FrameSequence,
                                  Prefetcher, VideoReader, is_video,
                                  natural_key)
from serankdet.cli import run_cli
from tests.conftest import REPO_ROOT
from tests.test_apis.test_inferencer import tiny  # noqa: F401 (fixture)
from tools import infer
from tools.infer import main as infer_main

FPS = 10


def write_clip(path, num_frames=12, size=64):
    """An MJPG clip of bright dots moving on a dim background."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*'MJPG'),
                             FPS, (size, size))
    assert writer.isOpened()
    for i in range(num_frames):
        frame = np.full((size, size, 3), 20, np.uint8)
        cv2.circle(frame, (4 + 4 * i % (size - 8), 20), 2, (255, 255, 255),
                   -1)
        cv2.circle(frame, (40, 4 + 3 * i % (size - 8)), 1, (220, 220, 220),
                   -1)
        writer.write(frame)
    writer.release()


def decoded_frames(path):
    """Every frame of ``path`` as cv2.VideoCapture decodes it."""
    capture = cv2.VideoCapture(str(path))
    frames = []
    while True:
        ok, frame = capture.read()
        if not ok:
            return frames
        frames.append(frame)


@pytest.fixture(scope='module')
def clip(tmp_path_factory):
    path = tmp_path_factory.mktemp('video') / 'clip.avi'
    write_clip(path)
    return path


@pytest.fixture(scope='module')
def model(tiny):  # noqa: F811
    """CONFIG and CKPT of test_inferencer's tiny U-Net."""
    return tiny


@pytest.fixture(scope='module')
def inferencer(model):
    return IRSTDInferencer(*model, threshold=0.5)


def read_lines(path):
    with open(path) as handle:
        return [json.loads(line) for line in handle]


def assert_same_targets(found, expected):
    """The same components, scores equal to float32 precision (batched
    and single frames may differ in the last bits)."""
    assert [(t['centroid'], t['bbox'], t['area']) for t in found] == [
        (t['centroid'], t['bbox'], t['area']) for t in expected]
    for ours, theirs in zip(found, expected):
        assert [ours['peak_score'], ours['mean_score']] == pytest.approx(
            [theirs['peak_score'], theirs['mean_score']], abs=1e-6)


def test_video_results_equal_image_results(clip, inferencer):
    reader = VideoReader(str(clip))
    assert (reader.fps, reader.num_frames) == (FPS, 12)
    frames = decoded_frames(clip)
    results = list(inferencer.stream(reader, prefetch=2))
    assert [f.index for f, _ in results] == list(range(12))
    assert [f.time for f, _ in results] == pytest.approx(
        [i / FPS for i in range(12)])
    assert 0.0 <= inferencer.input_wait
    found = 0
    for (frame, result), image in zip(results, frames):
        np.testing.assert_array_equal(frame.image, image)
        alone = inferencer(image)
        np.testing.assert_array_equal(result.mask, alone.mask)
        assert [t.to_dict() for t in result.targets] == [
            t.to_dict() for t in alone.targets]
        found += len(result.targets)
    assert found > 0


def test_cli_lists_every_frame_and_writes_the_video(clip, inferencer, model,
                                                    tmp_path, capsys):
    out = tmp_path / 'out'
    assert infer_main([*model, str(clip), '--out-dir', str(out),
                       '--threshold', '0.5', '--save-video', 'ann.avi',
                       '--batch-size', '3']) == 0
    summary = capsys.readouterr().out.splitlines()[-1]
    assert summary.startswith('12 frames') and 'frames/s' in summary
    assert 'model idle' in summary
    lines = read_lines(out / 'targets.jsonl')
    assert [line['frame'] for line in lines] == list(range(12))
    assert [line['time'] for line in lines] == pytest.approx(
        [i / FPS for i in range(12)])
    for line, image in zip(lines, decoded_frames(clip)):
        assert (line['height'], line['width']) == (64, 64)
        expected = [t.to_dict() for t in inferencer(image).targets]
        assert_same_targets(line['targets'], expected)
    assert sorted(os.listdir(out)) == ['ann.avi', 'targets.jsonl']
    written = decoded_frames(out / 'ann.avi')
    overlay = inferencer(decoded_frames(clip)[0], return_vis=True)
    assert len(written) == 12 and written[0].shape == \
        overlay.visualization.shape


def test_sequence_in_natural_order(clip, model, tmp_path, capsys):
    folder = tmp_path / 'frames'
    folder.mkdir()
    for index, image in zip((10, 2, 1, 3), decoded_frames(clip)):
        cv2.imwrite(str(folder / f'frame_{index}.png'), image[..., 0])
    names = ['frame_1.png', 'frame_2.png', 'frame_3.png', 'frame_10.png']
    assert sorted(os.listdir(folder), key=natural_key) == names
    sequence = FrameSequence([str(folder / n) for n in os.listdir(folder)],
                             fps=4)
    assert [(f.index, f.time, os.path.basename(f.image))
            for f in sequence] == [(i, i / 4, n) for i, n in enumerate(names)]
    out = tmp_path / 'out'
    args = [*model, str(folder), '--sequence', '--fps', '4', '--out-dir',
            str(out)]
    assert infer_main(args) == 0
    assert infer_main(args) == 0  # a rerun writes into a new subfolder
    assert 'already holds files: writing into' in capsys.readouterr().out
    runs = [out] + [p for p in out.iterdir() if p.is_dir()]
    assert len(runs) == 2
    for run in runs:
        lines = read_lines(run / 'targets.jsonl')
        assert [(line['frame'], line['time'], os.path.basename(line['file']))
                for line in lines] == [
                    (i, i / 4, n) for i, n in enumerate(names)]


def test_a_stopped_run_keeps_the_frames_done(clip, model, tmp_path,
                                             monkeypatch, capsys):
    """The disk fills while the fifth frame is listed: the four before it
    stay in targets.jsonl, and one error line says what happened."""
    add = infer.TargetList.add

    def full_at_fifth(self, entry):
        if entry['frame'] == 4:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), self.path)
        add(self, entry)

    monkeypatch.setattr(infer.TargetList, 'add', full_at_fifth)
    out = tmp_path / 'out'
    assert run_cli(infer_main, [*model, str(clip), '--out-dir', str(out),
                                '--save-video']) == 2
    captured = capsys.readouterr()
    assert captured.err.startswith(f'error: the disk is full writing {out}/'
                                   'targets.jsonl')
    assert f'stopped at frame 4: 4 frames are listed in {out}' in \
        captured.out
    assert [line['frame'] for line in read_lines(out / 'targets.jsonl')] == \
        [0, 1, 2, 3]
    assert len(decoded_frames(out / 'overlay.mp4')) == 4


def test_a_killed_run_keeps_the_frames_done(model, tmp_path):
    clip = tmp_path / 'long.avi'
    write_clip(clip, num_frames=400)
    out = tmp_path / 'out'
    process = subprocess.Popen(
        [sys.executable, 'tools/infer.py', *model, str(clip), '--out-dir',
         str(out)], cwd=REPO_ROOT, stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=dict(os.environ, PYTHONPATH=REPO_ROOT, OMP_NUM_THREADS='1'))
    listed = out / 'targets.jsonl'
    try:
        deadline = time.monotonic() + 120
        while not (listed.exists() and listed.read_bytes().count(b'\n') >= 3):
            assert process.poll() is None, process.stderr.read()[-2000:]
            assert time.monotonic() < deadline
            time.sleep(0.02)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
        process.stderr.close()
    lines = read_lines(listed)  # every line whole
    assert 3 <= len(lines) < 400
    assert [line['frame'] for line in lines] == list(range(len(lines)))


def test_bad_input_is_one_error_line(model, tmp_path, capsys):
    corrupt = tmp_path / 'corrupt.mp4'
    corrupt.write_bytes(b'not a video' * 100)
    write_clip(tmp_path / 'clip.avi')
    truncated = tmp_path / 'truncated.avi'
    truncated.write_bytes((tmp_path / 'clip.avi').read_bytes()[:3000])
    for path in (corrupt, truncated):
        assert run_cli(infer_main, [*model, str(path)]) == 2
        err = capsys.readouterr().err
        assert err.startswith(f'error: {path} is not a readable video')
        assert 'ffmpeg -i' in err and 'Traceback' not in err
    empty = tmp_path / 'empty'
    empty.mkdir()
    assert run_cli(infer_main, [*model, str(empty), '--sequence']) == 2
    err = capsys.readouterr().err
    assert err.startswith('error: no image (') and str(empty) in err
    assert run_cli(infer_main, [*model, str(tmp_path / 'clip.avi'),
                                '--save-overlay']) == 2
    assert '--save-video' in capsys.readouterr().err
    assert is_video(str(tmp_path / 'clip.avi'))
    assert not is_video(str(empty)) and not is_video(__file__)


def test_prefetcher_and_worker_threads():
    def numbers():
        yield from range(5)
        raise RuntimeError('reader failed')

    got = []
    with pytest.raises(RuntimeError, match='reader failed'):
        for item in Prefetcher(numbers(), size=2):
            got.append(item)
    assert got == list(range(5))
    stopped = []

    def endless():
        try:
            yield from iter(int, 1)
        finally:
            stopped.append(True)

    prefetcher = Prefetcher(endless(), size=2)
    assert next(prefetcher) == 0
    prefetcher.close()
    assert stopped == [True]
    done = []

    def write(item):
        if item == 3:
            raise OSError('disk full')
        done.append(item)

    worker = BackgroundWorker(write, size=1)
    with pytest.raises(OSError, match='disk full'):
        for item in range(100):
            worker.put(item)
    worker.close()  # the error is raised once
    assert done == [0, 1, 2]
