"""What the golden-vector generators of this folder share: their command
line, the official code imported from a checkout (never copied here), its
commit, seeded inputs and targets, and the BatchNorm buffers they store."""
import argparse
import importlib.util
import os.path as osp
import subprocess

import torch

GOLDEN_DIR = osp.join(
    osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))), 'tests',
    'data', 'golden')
BN_BUFFERS = ('running_mean', 'running_var', 'num_batches_tracked')


def parse_args(description: str, out_name: str, argv=None):
    """``CHECKOUT [--out FILE] [--commit SHA]``; ``--out`` defaults to
    ``tests/data/golden/<out_name>``."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument('checkout',
                        help='root of a checkout of the official repository')
    parser.add_argument('--out', default=osp.join(GOLDEN_DIR, out_name))
    parser.add_argument('--commit', default=None,
                        help='commit to record when the checkout has no .git')
    return parser.parse_args(argv)


def reference_commit(args, studied: str = None) -> str:
    """``--commit`` if given, else the checkout's ``HEAD``; for a checkout
    without ``.git``, the ``studied`` commit (the one the port follows) if
    given, marked as such."""
    if args.commit:
        return args.commit
    try:
        return subprocess.run(
            ['git', '-C', args.checkout, 'rev-parse', 'HEAD'], check=True,
            capture_output=True, text=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        if studied:
            return f'{studied} (not a git checkout; the studied one)'
        return 'unknown (not a git checkout)'


def load_module(checkout: str, relpath: str, name: str):
    """Import the file ``relpath`` of the official ``checkout`` as module
    ``name``; exit with a message naming the file when it is missing."""
    path = osp.join(checkout, relpath)
    if not osp.isfile(path):
        raise SystemExit(f'error: {path} not found: pass the root of a '
                         'checkout of the official repository')
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def seeded_normal(seed: int, shape, dtype=torch.float32) -> torch.Tensor:
    """N(0, 1) noise of ``shape`` from a generator seeded with ``seed``."""
    return torch.randn(tuple(shape), dtype=dtype,
                       generator=torch.Generator().manual_seed(seed))


def box_target(shape, boxes) -> torch.Tensor:
    """A float64 mask of ``shape`` (N, 1, H, W), ones in the
    ``(b, y0, y1, x0, x1)`` boxes: a few small targets, as in IRSTD
    masks."""
    target = torch.zeros(shape, dtype=torch.float64)
    for b, y0, y1, x0, x1 in boxes:
        target[b, 0, y0:y1, x0:x1] = 1
    return target


def bn_buffers(model: torch.nn.Module) -> dict:
    """Copies of the model's BatchNorm running statistics and counts."""
    return {
        key: value.clone()
        for key, value in model.state_dict().items()
        if key.endswith(BN_BUFFERS)
    }


def write_golden(golden: dict, path: str, *details: str) -> None:
    """Save ``golden`` at ``path``; print the reference commit it records
    and ``details``."""
    torch.save(golden, path)
    print(', '.join([
        f'wrote {path}: commit {golden["meta"]["reference_commit"]}',
        *details
    ]))
