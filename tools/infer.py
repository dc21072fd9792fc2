"""Detect small targets in your own frames and list what was found.

    python tools/infer.py {CONFIG CKPT | MODEL_NAME} INPUT [--out-dir DIR] [--threshold T]
        [--batch-size N] [--device D] [--tile H W] [--overlap PX|FRACTION]
        [--save-prob [png|npy]] [--save-overlay] [--jsonl] [--amp]
        [--cfg-options key=value ...]
    python tools/infer.py {CONFIG CKPT | MODEL_NAME} VIDEO
        [--save-video [NAME]] [--fps FPS]
    python tools/infer.py {CONFIG CKPT | MODEL_NAME} FRAMES --sequence
        [--fps FPS] [--save-video [NAME]]
        (videos, sequences: the options above but --save-prob, --save-overlay)
    python tools/infer.py CONFIG INPUT --backend onnxruntime --onnx MODEL.onnx
        [the options above but --device and --amp]

INPUT is an image, a folder (searched recursively, sorted) or a quoted glob
such as 'frames/**/*.tif'; frames may have any size and bit depth (8/16-bit
PNG/TIFF, JPEG, BMP; gray, colour or with alpha, read as gray; float frames
hold intensities in [0, 1]). Links to folders are followed, each real folder
once; the output folder (``--out-dir``, default ``work_dirs/infer``) is never
searched; entries named like images that are not files (folders, FIFOs,
dangling links) are listed as skipped. Written into the output folder, under
each frame's path relative to INPUT, without its extension unless two frames
differ only in theirs (``dup.png``, ``dup.tif``):

* ``masks/<name>.png``: binary mask, 0 / 255;
* ``probs/<name>.png`` (16-bit, probability * 65535) or ``.npy`` (float32)
  with ``--save-prob``;
* ``overlays/<name>.png`` with ``--save-overlay``: the frame with detected
  pixels in green, each target circled, a legend with the count (frames
  under 384 px enlarged by an integer factor);
* ``targets.json`` (or ``targets.jsonl``, one line per frame, written as
  frames finish, with ``--jsonl``): per frame every target's centroid
  (x, y), bbox (x, y, w, h), area (px), peak_score and mean_score
  (probabilities); ``targets.json`` also records the run's settings and the
  files that could not be read or processed, and is rewritten (atomically)
  after each frame (less often for very long lists).

Every file is written under a temporary name and renamed when complete: a
frame whose outputs cannot be written (a full disk) stops the run with one
``error:`` line, leaving no partial file and the frames done listed.

A mask is the model's decision rule (``model.decode_head``: threshold,
optional area bounds and hysteresis); a checkpoint calibrated by
``tools/analysis_tools/calibrate.py`` (``CKPT.decision.json``) uses its
calibrated rule, said at the start, unless ``--threshold`` or a
``--cfg-options model.decode_head.*`` rule key is given.

``--backend onnxruntime --onnx MODEL.onnx`` runs the graph of
``tools/deployment/export_onnx.py`` (or ``quantize_onnx.py``) with ONNX
Runtime on the CPU instead of the checkpoint, with the same reading,
preprocessing, sliding windows and decision rule: the one the export stored
in the graph's metadata (the checkpoint's calibrated rule, else the
config's), said at the start and overridden by ``--threshold`` or
``--cfg-options model.decode_head.*`` as a calibration file is; a graph
exported without one uses the config's rule, with a warning.

Videos and sequences: a VIDEO (a file with a video extension, ``.mp4``,
``.avi``, ``.mkv``, ``.mov``..., or any file OpenCV's FFmpeg backend opens)
or the frames of INPUT with ``--sequence`` (in natural order of their
paths: ``frame_2`` before ``frame_10``) are listed in ``targets.jsonl``, a
line per frame as it finishes: ``frame`` (index from 0), ``time`` (seconds:
the video's timestamp, or index / ``--fps`` for a sequence), ``file`` (a
sequence's frame) and the targets as above; ``--save-video [NAME]`` also
writes the overlays as a video (default ``overlay.mp4``, at the source's
frame rate) into the output folder. A thread decodes and preprocesses frames
ahead of the model and another writes the results behind it; the summary
line gives frames/s and the fraction of the time the model was idle,
waiting for frames. A killed run keeps the lines of every frame done; a
video that cannot be opened or decoded is one ``error:`` line.

Existing results are never overwritten: a non-empty output folder gets a new
timestamped subfolder. Large frames: ``--tile H W`` runs sliding windows
(multiples of the model's size divisor) whose logits are averaged where they
overlap. Frames larger than the model takes in one pass (SeRankDet: sides
above 512) run in sliding windows by themselves. Exit status 1 lists the files
that could not be read or processed, with their errors (all others are
processed first); exit status 2 is a bad argument, config or checkpoint,
reported in one ``error:`` line.
"""
import argparse
import contextlib
import errno
import json
import os
import os.path as osp
import sys
import time

from serankdet.cli import CfgOptionsAction, add_backend_args, run_cli


def parse_overlap(text: str):
    """'16' -> 16 px, '0.25' -> a quarter of the tile."""
    try:
        return int(text)
    except ValueError:
        return float(text)


def probability(text: str) -> float:
    """A threshold argument: a number in (0, 1)."""
    try:
        value = float(text)
    except ValueError:
        value = None
    if value is None or not 0.0 < value < 1.0:
        raise argparse.ArgumentTypeError(
            f'{text!r} is not a probability in (0, 1)')
    return value


def positive(text: str) -> float:
    """A frame-rate argument: a number > 0."""
    try:
        value = float(text)
    except ValueError:
        value = None
    if value is None or not 0.0 < value < float('inf'):
        raise argparse.ArgumentTypeError(f'{text!r} is not a number > 0')
    return value


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Detect infrared small targets in image files')
    parser.add_argument('config', help='model config file, or the name of '
                        'a shipped model (model-index.yml)')
    parser.add_argument('checkpoint', help='checkpoint file or model-zoo '
                        'name; left out after a model-zoo name')
    parser.add_argument('input', nargs='?',
                        help='image file, folder or glob pattern, or a '
                        'video file')
    parser.add_argument('--out-dir', help='output folder (default '
                        'work_dirs/infer/<timestamp>)')
    parser.add_argument('--threshold', type=probability,
                        help='probability threshold (default: the '
                        "calibrated one of CKPT.decision.json, or the one "
                        "stored in the --onnx graph, else the config's "
                        'model.decode_head.threshold)')
    parser.add_argument('--batch-size', type=int, default=1,
                        help='frames per forward pass (frames of the same '
                        'padded size are batched)')
    parser.add_argument('--device', default='cpu', help="e.g. 'cuda:0'")
    parser.add_argument('--tile', type=int, nargs=2, metavar=('H', 'W'),
                        help='sliding-window inference with windows of HxW')
    parser.add_argument('--overlap', type=parse_overlap, default=0.25,
                        help='window overlap in px (int) or as a fraction of '
                        'the tile (default 0.25)')
    parser.add_argument('--save-prob', nargs='?', const='png',
                        choices=('png', 'npy'),
                        help='also save probability maps (16-bit PNG or '
                        'float32 .npy)')
    parser.add_argument('--save-overlay', action='store_true',
                        help='also save the frames with targets drawn')
    parser.add_argument('--jsonl', action='store_true',
                        help='write targets.jsonl (one line per frame) '
                        'instead of targets.json')
    parser.add_argument('--sequence', action='store_true',
                        help='take the frames of INPUT as a video: in '
                        'natural order of their names (frame_2 before '
                        'frame_10), at --fps')
    parser.add_argument('--fps', type=positive, default=DEFAULT_FPS,
                        help='frame rate of a --sequence (timestamps: frame '
                        'index / fps), and of the --save-video of a video '
                        f'that states none (default {DEFAULT_FPS:g})')
    parser.add_argument('--save-video', nargs='?', const='overlay.mp4',
                        metavar='NAME',
                        help='video or --sequence input: also write the '
                        'frames with targets drawn as a video NAME in the '
                        'output folder (default overlay.mp4; .avi/.mkv: '
                        'MJPG, .mp4/.m4v/.mov: mp4v)')
    parser.add_argument('--amp', action='store_true',
                        help='mixed precision: float16 on a GPU, bfloat16 on '
                        'a CPU (faster where the CPU has AVX512-BF16/AMX)')
    parser.add_argument('--cfg-options', nargs='+', action=CfgOptionsAction,
                        help='override config keys')
    add_backend_args(parser)
    return parser.parse_args(argv)


#: Frame rate of a ``--sequence`` without ``--fps``.
DEFAULT_FPS = 25.0
#: Batches read ahead of the model, and results queued for writing, for a
#: video or a sequence.
QUEUE_SIZE = 4
#: Where results go without ``--out-dir`` (in a timestamped subfolder).
DEFAULT_OUT_ROOT = osp.join('work_dirs', 'infer')
#: targets.json is rewritten after a frame unless the time since its last
#: rewrite is under this many times what that rewrite took (so rewriting
#: takes at most about a tenth of the run, however long the list).
SAVE_BACKOFF = 10
#: targets.jsonl is synced to the disk (``os.fsync``) at most this often,
#: in seconds, and when closed; each line is handed to the system whole as
#: its frame finishes, so a killed run keeps all the frames done.
FSYNC_INTERVAL = 1.0


def shown(path: str) -> str:
    """``path`` printable whatever its bytes (a name that is not UTF-8
    shows its other bytes as ``\\xNN``)."""
    return os.fsencode(path).decode('utf-8', 'backslashreplace')


def output_root(out_dir=None) -> str:
    """The folder all results go under (``--out-dir`` or
    :data:`DEFAULT_OUT_ROOT`), never read as input.

    Raises:
        ValueError: it exists and is not a folder.
    """
    root = out_dir or DEFAULT_OUT_ROOT
    if osp.exists(root) and not osp.isdir(root):
        raise ValueError(f'--out-dir {shown(root)} is a file, not a folder: '
                         'give a new or empty folder')
    return root


def make_out_dir(out_dir=None) -> str:
    """A new or empty folder for the results; never one with files in it."""
    stamp = time.strftime('%Y%m%d_%H%M%S')
    base = out_dir or osp.join(DEFAULT_OUT_ROOT, stamp)
    candidate = base
    if osp.isdir(base) and os.listdir(base):
        candidate = osp.join(base, stamp)
    suffix = 1
    while osp.exists(candidate) and (not osp.isdir(candidate)
                                     or os.listdir(candidate)):
        candidate = osp.join(base, f'{stamp}_{suffix}')
        suffix += 1
    if candidate != base:
        print(f'{base} already holds files: writing into {candidate}')
    os.makedirs(candidate, exist_ok=True)
    return candidate


def save_frame(result, name: str, out_dir: str, args, record) -> None:
    """Write the mask and the optional probability map and overlay, each
    complete or not at all, then call ``record()`` (listing the frame);
    when a file cannot be written or ``record`` fails with an OSError, the
    frame's files written are removed and the error is raised."""
    import numpy as np

    from serankdet.datasets.image_io import imwrite, write_npy
    outputs = [(imwrite, 'masks', '.png', result.mask.astype(np.uint8) * 255)]
    if args.save_prob == 'npy':
        outputs.append((write_npy, 'probs', '.npy', result.probabilities))
    elif args.save_prob == 'png':
        outputs.append((imwrite, 'probs', '.png', np.round(
            result.probabilities * 65535).astype(np.uint16)))
    if args.save_overlay:  # the inferencer's overlay (RGB), written as BGR
        outputs.append((imwrite, 'overlays', '.png',
                        result.visualization[..., ::-1]))
    written = []
    try:
        for write, folder, ext, data in outputs:
            path = osp.join(out_dir, folder, name + ext)
            write(path, data)
            written.append(path)
        record()
    except OSError:
        for path in written:
            os.remove(path)
        raise


class TargetList:
    """The frames done and their targets, on disk as frames finish.

    ``targets.jsonl``: one line per frame, appended whole (a line a write
    fails on is cut off again), synced to the disk every
    :data:`FSYNC_INTERVAL` seconds. ``targets.json``: the run's settings, the
    frames and the failed files, rewritten atomically (a temporary file
    renamed) after each frame (less often where rewriting would take more
    than a tenth of the time, see :data:`SAVE_BACKOFF`) and by
    :meth:`close`. Either file always holds a complete list, of
    :attr:`saved` frames.
    """

    def __init__(self, out_dir: str, run: dict, jsonl: bool):
        self.path = osp.join(out_dir,
                             'targets.jsonl' if jsonl else 'targets.json')
        self.run = run
        self.frames, self.failed = [], []
        self.done = self.saved = 0
        self.handle = open(self.path, 'ab', buffering=0) if jsonl else None
        self.saved_at, self.save_time = time.monotonic(), 0.0
        self.synced_at = self.saved_at

    def add(self, entry: dict) -> None:
        """Record a frame done; if it cannot be written (OSError), the
        list stays as it was."""
        if self.handle is None:
            self.frames.append(entry)
            if time.monotonic() - self.saved_at >= \
                    SAVE_BACKOFF * self.save_time:
                try:
                    self.save()
                except OSError:
                    self.frames.pop()
                    raise
        else:
            line = (json.dumps(entry) + '\n').encode()
            end = self.handle.tell()
            try:
                if self.handle.write(line) != len(line):
                    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            except OSError as error:
                self.handle.truncate(end)
                raise OSError(error.errno, error.strerror,
                              self.path) from error
            self.saved += 1
            if time.monotonic() - self.synced_at >= FSYNC_INTERVAL:
                self.sync()
        self.done += 1

    def fail(self, path: str, error: Exception) -> None:
        """Record a file that could not be read or processed."""
        self.failed.append(dict(file=path, error=str(error)))

    def save(self) -> None:
        """Rewrite targets.json atomically."""
        from serankdet.datasets.image_io import write_file
        start = time.monotonic()
        write_file(self.path, json.dumps(dict(
            run=self.run, frames=self.frames, failed=self.failed),
            indent=1).encode())
        self.saved_at = time.monotonic()
        self.save_time = self.saved_at - start
        self.saved = len(self.frames)

    def sync(self) -> None:
        """Sync targets.jsonl to the disk."""
        os.fsync(self.handle.fileno())
        self.synced_at = time.monotonic()

    def close(self) -> None:
        """Finish the list: sync and close targets.jsonl, or save
        targets.json."""
        if self.handle is None:
            self.save()
        else:
            try:
                self.sync()
            finally:
                self.handle.close()


def target_record(result, **ids) -> dict:
    """A frame's entry in the target list: ``ids`` (what names the frame),
    its size and its targets."""
    return dict(ids, height=result.mask.shape[0], width=result.mask.shape[1],
                targets=[t.to_dict() for t in result.targets])


def finish(targets: TargetList, num_targets: int, elapsed: float,
           out_dir: str, note: str = '') -> int:
    """Close the target list, print the summary line (``note`` added to
    the rate) and the files that failed; the exit status."""
    targets.close()
    done = targets.done
    print(f'\n{done} frames, {num_targets} targets, {elapsed:.1f} s '
          f'({done / max(elapsed, 1e-9):.2f} frames/s{note}); results in '
          f'{shown(out_dir)}')
    if targets.failed:
        print(f'error: {len(targets.failed)} file(s) could not be '
              'processed:', file=sys.stderr)
        for item in targets.failed:
            print(f'  {shown(item["file"])}: {item["error"]}',
                  file=sys.stderr)
        return 1
    return 0


def infer_images(args, inferencer, paths, names, out_dir, run) -> int:
    """Detect in image files, writing each frame's files as it finishes."""
    from mmengine.utils import ProgressBar
    targets = TargetList(out_dir, run, args.jsonl)
    num_targets = 0
    progress = ProgressBar(len(paths))
    start = time.perf_counter()
    for path, result in inferencer.stream(paths,
                                          return_vis=args.save_overlay):
        progress.update()
        if isinstance(result, Exception):
            targets.fail(path, result)
            continue
        entry = target_record(result, file=path, name=names[path])
        try:
            save_frame(result, names[path], out_dir, args,
                       lambda: targets.add(entry))
        except OSError:  # e.g. a full disk: stop with the frames done listed
            with contextlib.suppress(OSError):  # else as last saved
                targets.close()
            print(f'\nstopped at {shown(path)}: {targets.saved} of '
                  f'{len(paths)} frames are listed in {shown(targets.path)}')
            raise
        num_targets += len(result.targets)
    return finish(targets, num_targets, time.perf_counter() - start, out_dir)


def infer_frames(args, inferencer, source, out_dir, run) -> int:
    """Detect in the frames of a video or a ``--sequence``: a thread reads
    and preprocesses them ahead of the model, another lists each result in
    ``targets.jsonl`` (and draws it into the ``--save-video``) behind it;
    closing the stream stops the reader."""
    from mmengine.utils import ProgressBar

    from serankdet.apis.inferencer import draw_overlay
    from serankdet.apis.video import BackgroundWorker, VideoFile
    targets = TargetList(out_dir, run, jsonl=True)
    video = (VideoFile(osp.join(out_dir, args.save_video),
                       source.fps or args.fps) if args.save_video else None)
    progress = ProgressBar(source.num_frames or 0)
    num_targets, current = 0, None

    def write(item) -> None:
        nonlocal num_targets, current
        current, result = item
        if isinstance(result, Exception):
            targets.fail(current.describe(), result)
        else:
            targets.add(target_record(result, **current.record()))
            if video is not None:  # drawn here, beside the model
                video.write(draw_overlay(result.image, result.mask,
                                         result.max_value)[..., ::-1])
            num_targets += len(result.targets)
        progress.update()

    start = time.perf_counter()
    try:
        with contextlib.ExitStack() as stack:
            if video is not None:
                stack.callback(video.close)  # the frames done, also on error
            writer = BackgroundWorker(write, QUEUE_SIZE)
            stack.callback(writer.close)  # the results queued, then the video
            results = stack.enter_context(contextlib.closing(
                inferencer.stream(source, prefetch=QUEUE_SIZE)))
            for item in results:
                writer.put(item)
            model_time = time.perf_counter() - start
    except OSError:  # e.g. a full disk: stop with the frames done listed
        with contextlib.suppress(OSError):
            targets.close()
        print(f'\nstopped at {shown(current.describe())}: {targets.saved} '
              f'frames are listed in {shown(targets.path)}')
        raise
    idle = inferencer.input_wait / max(model_time, 1e-9)
    return finish(targets, num_targets, time.perf_counter() - start, out_dir,
                  f', model idle {idle:.0%} waiting for frames')


def main(argv=None) -> int:
    args = parse_args(argv)
    # imported after parsing: --help and argument errors answer at once
    from serankdet.apis.inferencer import IRSTDInferencer, find_images
    from serankdet.apis.video import FrameSequence, VideoReader, is_video
    from serankdet.cli import resolve_model_args
    from serankdet.utils import output_names
    if args.input is None:
        # MODEL_NAME INPUT or CONFIG INPUT --backend onnxruntime: the
        # second argument is the input
        args.checkpoint, args.input = None, args.checkpoint
    if args.backend == 'pytorch':
        resolve_model_args(args)
        if args.checkpoint is None:
            raise ValueError('a checkpoint is needed: tools/infer.py CONFIG '
                             'CHECKPOINT INPUT (or MODEL_NAME INPUT)')
    source = paths = names = None
    if is_video(args.input):
        if args.sequence:
            raise ValueError(f'{shown(args.input)} is a video; --sequence is '
                             'for a folder (or glob) of frame images')
        source = VideoReader(args.input)
    else:
        listing = find_images(args.input,
                              exclude=[output_root(args.out_dir)])
        for path, reason in listing.skipped:
            print(f'skipped {shown(path)}: {reason}')
        paths = listing.paths
        if args.sequence:
            source = FrameSequence(paths, args.fps)
        else:
            names = output_names(
                paths, args.input if osp.isdir(args.input) else None)
    if source is None and args.save_video:
        raise ValueError('--save-video is for a video or a --sequence of '
                         'frames; use --save-overlay for images')
    if source is not None and (args.save_prob or args.save_overlay):
        raise ValueError('--save-prob and --save-overlay write files per '
                         'image; a video or a --sequence is listed in '
                         'targets.jsonl, drawn with --save-video')
    inferencer = IRSTDInferencer(
        model=args.config, weights=args.checkpoint, device=args.device,
        threshold=args.threshold, tile=args.tile, overlap=args.overlap,
        batch_size=args.batch_size, cfg_options=args.cfg_options,
        amp=args.amp, backend=args.backend, onnx_file=args.onnx)
    out_dir = make_out_dir(args.out_dir)
    run = dict(config=args.config, checkpoint=args.checkpoint,
               backend=args.backend, onnx=args.onnx, input=args.input,
               threshold=inferencer.threshold,
               decision_rule=inferencer.decision_rule.to_dict(),
               test_cfg=dict(inferencer.model.test_cfg))
    if source is not None:
        return infer_frames(args, inferencer, source, out_dir, run)
    return infer_images(args, inferencer, paths, names, out_dir, run)


if __name__ == '__main__':
    sys.exit(run_cli(main))
