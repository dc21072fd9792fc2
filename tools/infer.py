"""Detect small targets in your own frames and list what was found.

    python tools/infer.py CONFIG CKPT INPUT [--out-dir DIR] [--threshold T]
        [--batch-size N] [--device D] [--tile H W] [--overlap PX|FRACTION]
        [--save-prob [png|npy]] [--save-overlay] [--jsonl] [--amp]
        [--cfg-options key=value ...]

INPUT is an image, a folder (searched recursively, sorted) or a quoted glob
such as 'frames/**/*.tif'; frames may have any size and bit depth (8/16-bit
PNG/TIFF, JPEG, BMP; gray, colour or with alpha, read as gray). Written into
the output folder, under each frame's path relative to INPUT:

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
  files that could not be read or processed.

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
import json
import os
import os.path as osp
import sys
import time

from serankdet.cli import CfgOptionsAction, run_cli


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


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Detect infrared small targets in image files')
    parser.add_argument('config', help='model config file')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('input', help='image file, folder or glob pattern')
    parser.add_argument('--out-dir', help='output folder (default '
                        'work_dirs/infer/<timestamp>)')
    parser.add_argument('--threshold', type=probability,
                        help="probability threshold (default: the head's)")
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
    parser.add_argument('--amp', action='store_true',
                        help='mixed precision: float16 on a GPU, bfloat16 on '
                        'a CPU (faster where the CPU has AVX512-BF16/AMX)')
    parser.add_argument('--cfg-options', nargs='+', action=CfgOptionsAction,
                        help='override config keys')
    return parser.parse_args(argv)


def make_out_dir(out_dir=None) -> str:
    """A new or empty folder for the results; never one with files in it."""
    stamp = time.strftime('%Y%m%d_%H%M%S')
    base = out_dir or osp.join('work_dirs', 'infer', stamp)
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


def relative_stem(path: str, root: str) -> str:
    """``path`` relative to ``root`` without extension (output names)."""
    return osp.splitext(osp.relpath(path, root))[0]


def imwrite(path: str, image) -> None:
    import cv2
    os.makedirs(osp.dirname(path), exist_ok=True)
    if not cv2.imwrite(path, image):
        raise OSError(f'could not write {path}')


def save_frame(result, stem: str, out_dir: str, args) -> None:
    """Write the mask and the optional probability map and overlay."""
    import numpy as np
    imwrite(osp.join(out_dir, 'masks', stem + '.png'),
            result.mask.astype(np.uint8) * 255)
    if args.save_prob == 'npy':
        path = osp.join(out_dir, 'probs', stem + '.npy')
        os.makedirs(osp.dirname(path), exist_ok=True)
        np.save(path, result.probabilities)
    elif args.save_prob == 'png':
        imwrite(osp.join(out_dir, 'probs', stem + '.png'),
                np.round(result.probabilities * 65535).astype(np.uint16))
    if args.save_overlay:  # the inferencer's overlay (RGB), written as BGR
        imwrite(osp.join(out_dir, 'overlays', stem + '.png'),
                result.visualization[..., ::-1])


def main(argv=None) -> int:
    args = parse_args(argv)
    # imported after parsing: --help and argument errors answer at once
    from mmengine.utils import ProgressBar

    from serankdet.apis.inferencer import IRSTDInferencer, list_images
    paths = list_images(args.input)
    root = (args.input if osp.isdir(args.input) else
            osp.commonpath([osp.dirname(osp.abspath(p)) for p in paths]))
    inferencer = IRSTDInferencer(
        model=args.config, weights=args.checkpoint, device=args.device,
        threshold=args.threshold, tile=args.tile, overlap=args.overlap,
        batch_size=args.batch_size, cfg_options=args.cfg_options,
        amp=args.amp)
    out_dir = make_out_dir(args.out_dir)
    jsonl = (open(osp.join(out_dir, 'targets.jsonl'), 'w', encoding='utf-8')
             if args.jsonl else None)
    frames, failed, num_targets = [], [], 0
    progress = ProgressBar(len(paths))
    start = time.perf_counter()
    for path, result in inferencer.stream(paths,
                                          return_vis=args.save_overlay):
        progress.update()
        if isinstance(result, Exception):
            failed.append(dict(file=path, error=str(result)))
            continue
        stem = relative_stem(osp.abspath(path), osp.abspath(root))
        save_frame(result, stem, out_dir, args)
        num_targets += len(result.targets)
        entry = dict(file=path, name=stem, height=result.mask.shape[0],
                     width=result.mask.shape[1],
                     targets=[t.to_dict() for t in result.targets])
        if jsonl is not None:
            jsonl.write(json.dumps(entry) + '\n')
            jsonl.flush()
        else:
            frames.append(entry)
    elapsed = time.perf_counter() - start
    if jsonl is not None:
        jsonl.close()
    else:
        run = dict(config=args.config, checkpoint=args.checkpoint,
                   input=args.input, threshold=inferencer.threshold,
                   test_cfg=dict(inferencer.model.test_cfg))
        with open(osp.join(out_dir, 'targets.json'), 'w',
                  encoding='utf-8') as handle:
            json.dump(dict(run=run, frames=frames, failed=failed), handle,
                      indent=1)
    done = len(paths) - len(failed)
    print(f'\n{done} frames, {num_targets} targets, {elapsed:.1f} s '
          f'({done / max(elapsed, 1e-9):.2f} frames/s); results in {out_dir}')
    if failed:
        print(f'error: {len(failed)} file(s) could not be processed:',
              file=sys.stderr)
        for item in failed:
            print(f'  {item["file"]}: {item["error"]}', file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(run_cli(main))
