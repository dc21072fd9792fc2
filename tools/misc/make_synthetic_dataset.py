"""Generate the synthetic IR small-target dataset.

Usage:
    python tools/misc/make_synthetic_dataset.py OUT_DIR \
        [--num-train 200] [--num-test 50] [--size 128 128] [--seed 0] \
        [--bit-depth 8]

Writes OUT_DIR/{trainval,test}/{images,masks}/*.png and OUT_DIR/targets.json
(see serankdet/datasets/synthetic.py). An existing OUT_DIR is kept if it was
made with the same parameters and refused otherwise.
"""
import argparse

from serankdet.datasets.synthetic import ensure_synthetic_dataset


def parse_args():
    parser = argparse.ArgumentParser(
        description='Generate a synthetic IRSTD dataset')
    parser.add_argument('out_dir', help='dataset root to create')
    parser.add_argument('--num-train', type=int, default=200)
    parser.add_argument('--num-test', type=int, default=50)
    parser.add_argument('--size', type=int, nargs=2, default=[128, 128],
                        metavar=('H', 'W'), help='frame height and width')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--bit-depth', type=int, choices=[8, 16], default=8)
    return parser.parse_args()


def main():
    args = parse_args()
    meta = ensure_synthetic_dataset(
        args.out_dir, num_train=args.num_train, num_test=args.num_test,
        img_size=args.size, seed=args.seed, bit_depth=args.bit_depth)
    for split, frames in meta['targets'].items():
        counts = [len(targets) for targets in frames.values()]
        print(f'{split}: {len(frames)} frames, {sum(counts)} targets, '
              f'{counts.count(0)} frames without target')
    print(f'written to {args.out_dir} (targets in targets.json)')


if __name__ == '__main__':
    main()
