"""Turn a training checkpoint into a released weights file.

    python tools/misc/publish_model.py CHECKPOINT NAME [--out-dir checkpoints]

Keeps the weights and the run's metadata (config text, epoch, iteration,
seed, dataset classes), drops the training state (optimizer, schedulers,
generator states, logged scalars), and writes ``<out-dir>/<NAME>-<first 8
hex digits of the SHA-256>.pth`` (mmsegmentation's naming), atomically and
never over an existing file. Prints the path and the full SHA-256 for the
model's entry in ``configs/<algorithm>/metafile.yaml``. The file holds only
tensors and plain values: it loads with torch's ``weights_only`` loader.
"""
import argparse
import os
import os.path as osp
import sys

from serankdet.cli import run_cli

#: the metadata kept from a training checkpoint
KEPT_META = ('epoch', 'iter', 'seed', 'cfg', 'experiment_name', 'time',
             'dataset_meta')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('checkpoint', help='training checkpoint')
    parser.add_argument('name', help="the model's zoo name, e.g. "
                        'acm_sirst-5050')
    parser.add_argument('--out-dir', default='checkpoints')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    import torch

    from serankdet.utils import file_sha256, load_checkpoint_file
    state = load_checkpoint_file(args.checkpoint, map_location='cpu')
    if 'state_dict' not in state:
        raise ValueError(f'{args.checkpoint} holds no state_dict: not a '
                         'checkpoint of tools/train.py')
    meta = {key: value for key, value in state.get('meta', {}).items()
            if key in KEPT_META}
    os.makedirs(args.out_dir, exist_ok=True)
    partial = osp.join(args.out_dir, f'.{args.name}.partial')
    torch.save(dict(state_dict=state['state_dict'], meta=meta), partial)
    sha256 = file_sha256(partial)
    out = osp.join(args.out_dir, f'{args.name}-{sha256[:8]}.pth')
    if osp.exists(out):
        os.remove(partial)
        raise FileExistsError(f'{out} exists already (the same weights '
                              'were published before)')
    os.replace(partial, out)
    print(f'{out}\nSHA256: {sha256}\nsize: {osp.getsize(out)} bytes')


if __name__ == '__main__':
    sys.exit(run_cli(main))
