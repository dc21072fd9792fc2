"""Save what the model sees in training: the training pipeline's output.

    python tools/misc/browse_dataset.py CONFIG [--output-dir DIR] [--num N]
        [--show [--show-interval S]] [--cfg-options key=value ...]

Builds ``train_dataloader.dataset`` of the config (with its pipeline:
flips, rescaling, padding, crops, blur) and writes one picture per sample,
``<index>_<image name>.png`` in ``--output-dir`` (default
``work_dirs/browse_dataset/<config name>``): the augmented frame with its
targets circled, beside its augmented mask; the legend counts the targets
and gives the size. Draws follow the config's ``randomness.seed``, so two
runs give the same pictures.
"""
import argparse
import os.path as osp
import sys

from serankdet.cli import CfgOptionsAction, run_cli


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Save the training pipeline\'s output as images')
    parser.add_argument('config', help='config file')
    parser.add_argument('--output-dir', help='folder for the pictures '
                        '(default work_dirs/browse_dataset/<config name>)')
    parser.add_argument('--num', type=int, default=None,
                        help='how many samples, from the first (default all)')
    parser.add_argument('--show', action='store_true',
                        help='also show each picture in a window')
    parser.add_argument('--show-interval', type=float, default=2,
                        help='seconds each picture is shown (with --show)')
    parser.add_argument('--cfg-options', nargs='+', action=CfgOptionsAction,
                        help='override config keys, as the tools do')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    from mmengine.runner import set_random_seed
    from mmengine.utils import ProgressBar, mkdir_or_exist

    from serankdet.apis import register_all_modules
    from serankdet.cli import check_data_roots, read_config_with_options
    from serankdet.registry import DATASETS, VISUALIZERS
    cfg = read_config_with_options(args.config, args.cfg_options)
    register_all_modules()
    check_data_roots(cfg, ['train_dataloader'])
    seed = cfg.get('randomness', {}).get('seed')
    if seed is not None:
        set_random_seed(seed)
    output_dir = args.output_dir or osp.join(
        'work_dirs', 'browse_dataset',
        osp.splitext(osp.basename(args.config))[0])
    mkdir_or_exist(output_dir)
    dataset = DATASETS.build(cfg.train_dataloader.dataset)
    # the pictures are written here, not through the run's backends
    visualizer = VISUALIZERS.build(dict(cfg.visualizer, vis_backends=None))
    num = len(dataset) if args.num is None else min(args.num, len(dataset))
    progress = ProgressBar(num)
    for index in range(num):
        item = dataset[index]
        sample = item['data_samples']
        name = osp.splitext(osp.basename(sample.img_path))[0]
        visualizer.add_datasample(
            name, item['inputs'].numpy(), sample, show=args.show,
            wait_time=args.show_interval,
            out_file=osp.join(output_dir, f'{index:04d}_{name}.png'),
            max_value=sample.get('img_max_value'))
        progress.update()
    print(f'\n{num} training samples drawn in {output_dir}')
    return 0


if __name__ == '__main__':
    sys.exit(run_cli(main))
