"""Mixed frame sizes through ``tools/infer.py``, every model, no flags.

Issue 18's check: a folder of sensor frames of mixed sizes (640x512,
1280x1024, 1920x1080, plus an odd 130x121 and a tiny 32x32 frame) goes
through ``tools/infer.py CONFIG CKPT FOLDER`` for each model, without
``--tile`` or any ``test_cfg`` change. Each model gets a random-weight
checkpoint of its config (speed and robustness do not depend on training).
The table gives, per model, the exit status, the frames processed and
failed (with the first failure's error), and the frames/s that infer.py
reports (model time only, after start-up).

``--rev REV`` runs the same at another git revision of this repository (a
temporary ``git worktree``), e.g. the revision before issue 18 was
addressed, to compare before and after in one run::

    python benchmarks/frame_sizes.py --threads 2 --out \\
        benchmarks/results/frame_sizes.json
    python benchmarks/frame_sizes.py --threads 2 --rev e97d5de^ \\
        --models serankdet datransnet samspl-t \\
        --out benchmarks/results/frame_sizes_before.json

Results are written to ``--out`` after every model, so an interrupted run
keeps what it measured.
"""
import argparse
import json
import os
import os.path as osp
import platform
import re
import subprocess
import sys
import tempfile
import time

REPO_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
MODELS = {
    'serankdet': 'configs/serankdet/serankdet_1xb4-500e_irstd1k-512x512.py',
    'datransnet': 'configs/datransnet/datransnet_1xb4-400e_irstd1k-512x512.py',
    'samspl-t': 'configs/samspl/samspl-t_1xb12-300e_nudt-sirst-256x256.py',
    'dnanet': 'configs/dnanet/dnanet_1xb16-1500e_nudt-sirst-256x256.py',
    'mshnet': 'configs/mshnet/mshnet_1xb4-400e_nudt-sirst-256x256.py',
    'uiunet': 'configs/uiunet/uiunet_1xb3-500e_sirst-288x288.py',
    'sctransnet': 'configs/sctransnet/sctransnet_1xb16-1000e_sirst-256x256.py',
    'acm': 'configs/acm/acm_1xb16-400e_sirst-256x256.py',
    'alcnet': 'configs/alcnet/alcnet_1xb16-400e_sirst-256x256.py',
}
#: name -> (H, W)
FRAMES = {
    'sensor_640x512_a': (512, 640),
    'sensor_640x512_b': (512, 640),
    'sensor_1280x1024': (1024, 1280),
    'sensor_1920x1080': (1080, 1920),
    'odd_121x130': (130, 121),
    'tiny_32x32': (32, 32),
}
# what the checkpoint of a model without SAM2 weights needs
OPTIONS = {'samspl-t': ['model.backbone.trunk.pretrained=None']}

MAKE_CHECKPOINT = r'''
import sys, torch
from mmengine.config import Config
from serankdet.apis import register_all_modules
from serankdet.registry import MODELS
register_all_modules()
config, path = sys.argv[1:3]
cfg = Config.fromfile(config)
cfg.merge_from_dict({k: None for k in sys.argv[3:]})
torch.manual_seed(0)
model = MODELS.build(cfg.model)
torch.save(dict(state_dict=model.state_dict(), meta={}), path)
'''


def write_frames(folder: str) -> None:
    """Dim noise with three bright 3x3 targets per frame."""
    import cv2
    import numpy as np
    os.makedirs(folder, exist_ok=True)
    for index, (name, shape) in enumerate(FRAMES.items()):
        rng = np.random.default_rng(index)
        image = rng.integers(0, 60, shape, dtype=np.uint8)
        for y, x in rng.integers(2, min(shape) - 2, (3, 2)):
            image[y - 1:y + 2, x - 1:x + 2] = 250
        cv2.imwrite(osp.join(folder, name + '.png'), image)


def checkout(rev: str, tmp: str) -> str:
    """The repository at ``rev`` in a temporary worktree (or this one)."""
    if rev is None:
        return REPO_ROOT
    path = osp.join(tmp, 'worktree')
    subprocess.run(['git', '-C', REPO_ROOT, 'worktree', 'add', '--detach',
                    path, rev], check=True, capture_output=True)
    return path


def run_model(name: str, root: str, frames: str, tmp: str,
              env: dict) -> dict:
    config = osp.join(root, MODELS[name])
    if not osp.isfile(config):
        return dict(model=name, error=f'no {MODELS[name]} at this revision')
    # the weights come from this checkout (the parameter names of a model
    # do not change between revisions); the revision's own infer.py and
    # package (PYTHONPATH) run them
    checkpoint = osp.join(tmp, f'{name}.pth')
    options = OPTIONS.get(name, [])
    subprocess.run([sys.executable, '-c', MAKE_CHECKPOINT,
                    osp.join(REPO_ROOT, MODELS[name]), checkpoint] +
                   [o.split('=')[0] for o in options],
                   check=True, cwd=REPO_ROOT)
    env = dict(env, PYTHONPATH=root)
    out_dir = osp.join(tmp, f'out_{name}')
    command = [sys.executable, 'tools/infer.py', config, checkpoint, frames,
               '--out-dir', out_dir]
    if options:
        command += ['--cfg-options', *options]
    start = time.perf_counter()
    proc = subprocess.run(command, cwd=root, env=env, capture_output=True,
                          text=True)
    wall = time.perf_counter() - start
    output = proc.stdout + proc.stderr
    speed = re.search(r'(\d+) frames, \d+ targets, ([\d.]+) s', output)
    processed = []
    report = osp.join(out_dir, 'targets.json')
    if osp.isfile(report):
        with open(report) as f:
            processed = [frame['name'] for frame in json.load(f)['frames']]
    failed = sorted(set(FRAMES) - set(processed))
    first_error = next((line.strip() for line in output.splitlines()
                        if 'error' in line.lower()), '')
    return dict(model=name, config=MODELS[name], exit=proc.returncode,
                processed=len(processed), failed=failed,
                first_error=first_error[:300],
                model_seconds=float(speed[2]) if speed else None,
                # from the unrounded seconds (infer.py prints 2 decimals)
                frames_per_second=round(len(processed) / float(speed[2]), 4)
                if speed and float(speed[2]) > 0 else None,
                wall_seconds=round(wall, 1))


def print_row(row: dict) -> None:
    if 'error' in row:
        print(f'| {row["model"]} | - | - | - | - | {row["error"]} |')
        return
    fps = row['frames_per_second']
    print(f'| {row["model"]} | {row["exit"]} | {row["processed"]}/'
          f'{len(FRAMES)} | {fps if fps is not None else "-"} | '
          f'{row["wall_seconds"]} | {", ".join(row["failed"]) or "-"} '
          f'{row["first_error"][:120]} |', flush=True)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--models', nargs='+', choices=sorted(MODELS),
                        default=list(MODELS))
    parser.add_argument('--rev', help='git revision to run (default: this '
                        'checkout as it is)')
    parser.add_argument('--threads', type=int, default=os.cpu_count())
    parser.add_argument('--out', help='JSON file for the results')
    args = parser.parse_args(argv)
    env = dict(os.environ, OMP_NUM_THREADS=str(args.threads),
               MKL_NUM_THREADS=str(args.threads))
    result = dict(rev=args.rev or 'working tree', frames=FRAMES,
                  threads=args.threads, machine=f'{platform.machine()}, '
                  f'{os.cpu_count()} cores', rows=[])
    print('| model | exit | frames done | frames/s | wall s | failed |')
    print('|---|---|---|---|---|---|')
    with tempfile.TemporaryDirectory() as tmp:
        root = checkout(args.rev, tmp)
        try:
            frames = osp.join(tmp, 'frames')
            write_frames(frames)
            for name in args.models:
                row = run_model(name, root, frames, tmp, env)
                result['rows'].append(row)
                print_row(row)
                if args.out:
                    os.makedirs(osp.dirname(osp.abspath(args.out)),
                                exist_ok=True)
                    with open(args.out + '.tmp', 'w') as f:
                        json.dump(result, f, indent=1)
                    os.replace(args.out + '.tmp', args.out)
        finally:
            if root != REPO_ROOT:
                subprocess.run(['git', '-C', REPO_ROOT, 'worktree', 'remove',
                                '--force', root], capture_output=True)


if __name__ == '__main__':
    main()
