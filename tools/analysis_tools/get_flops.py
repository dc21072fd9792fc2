"""Parameters and FLOPs of a model (mmengine's analysis).

    python tools/analysis_tools/get_flops.py CONFIG [--shape H W]
        [--cfg-options key=value ...]

Counts the main-logits forward (``model(x, mode='tensor')``) on one
(1, in_channels, H, W) input: no preprocessing, sigmoid or post-processing.
FLOPs follow mmengine's (fvcore's) convention: one multiply-add counts as
ONE FLOP, i.e. the numbers are MACs; multiply by 2 for the convention that
counts multiplications and additions separately. Operators mmengine has no
counter for are listed as skipped.
"""
import argparse

import torch
from mmengine.analysis import get_model_complexity_info
from mmengine.config import DictAction

from serankdet.apis import init_model


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Count the parameters and FLOPs of a model')
    parser.add_argument('config', help='model config file')
    parser.add_argument('--shape', type=int, nargs=2, metavar=('H', 'W'),
                        default=(256, 256), help='input size (default 256 '
                        '256; padded up to the size divisor)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config keys')
    return parser.parse_args(argv)


def complexity(model: torch.nn.Module, shape) -> dict:
    """mmengine's complexity info for a (1, C, H, W) input.

    ``shape`` is padded up to the model's size divisor, as the data
    preprocessor would. Returns the dict of
    :func:`mmengine.analysis.get_model_complexity_info` plus ``shape`` (the
    size actually counted).
    """
    div = model.data_preprocessor.size_divisor or 1
    shape = tuple(-(-int(s) // div) * div for s in shape)
    inputs = torch.zeros(1, model.data_preprocessor.in_channels, *shape)
    with torch.no_grad():
        info = get_model_complexity_info(model, inputs=(inputs, ),
                                         show_table=True, show_arch=False)
    info['shape'] = shape
    return info


def main(argv=None) -> int:
    args = parse_args(argv)
    model = init_model(args.config, None, 'cpu', args.cfg_options)
    info = complexity(model, args.shape)
    print(info['out_table'])
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    height, width = info['shape']
    print(f'config: {args.config}\n'
          f'input:  1x{model.data_preprocessor.in_channels}x{height}x{width}'
          f'\nparams: {info["params_str"]} ({info["params"]:,}; trainable '
          f'{trainable:,})\n'
          f'FLOPs:  {info["flops_str"]} ({info["flops"]:,}; mmengine '
          'convention: 1 multiply-add = 1 FLOP)')
    return 0


if __name__ == '__main__':
    raise SystemExit(main())
