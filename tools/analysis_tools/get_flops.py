"""Parameters and FLOPs of a model (mmengine's analysis).

    python tools/analysis_tools/get_flops.py CONFIG [--shape H W]
        [--cfg-options key=value ...]

Counts the main-logits forward (``model(x, mode='tensor')``) on one
(1, in_channels, H, W) input: no preprocessing, sigmoid or post-processing.
FLOPs follow mmengine's (fvcore's) convention: one multiply-add counts as
ONE FLOP, i.e. the numbers are MACs; multiply by 2 for the convention that
counts multiplications and additions separately. Prints one table (params in
millions, FLOPs in G, per top-level part of the model) and one line naming
the operators mmengine has no counter for (elementwise operations,
activations, pooling: not counted).
"""
import argparse
import sys
from collections import Counter

from serankdet.cli import CfgOptionsAction, run_cli


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Count the parameters and FLOPs of a model')
    parser.add_argument('config', help='model config file')
    parser.add_argument('--shape', type=int, nargs=2, metavar=('H', 'W'),
                        default=(256, 256), help='input size (default 256 '
                        '256; padded up to the size divisor)')
    parser.add_argument('--cfg-options', nargs='+', action=CfgOptionsAction,
                        help='override config keys')
    return parser.parse_args(argv)


def complexity(model, shape) -> dict:
    """Parameters and FLOPs of ``model`` on a (1, C, H, W) input.

    ``shape`` is padded up to the model's size divisor, as the data
    preprocessor would.

    Returns:
        dict: ``shape`` (the size counted), ``params`` and ``flops`` (whole
        model), ``by_module`` ({name: (params, flops)} for every module,
        '' is the model) and ``not_counted`` ({operator: occurrences}).
    """
    import torch
    from mmengine.analysis import FlopAnalyzer, parameter_count
    div = model.data_preprocessor.size_divisor or 1
    shape = tuple(-(-int(s) // div) * div for s in shape)
    inputs = torch.zeros(1, model.data_preprocessor.in_channels, *shape)
    analyzer = FlopAnalyzer(model, (inputs, ))
    # reported once, in the summary line, instead of one warning each
    analyzer.unsupported_ops_warnings(False)
    analyzer.uncalled_modules_warnings(False)
    with torch.no_grad():
        flops = analyzer.by_module()
        not_counted = Counter(analyzer.unsupported_ops())
    params = parameter_count(model)
    return dict(shape=shape, params=params[''], flops=flops[''],
                by_module={name: (params.get(name, 0), flops.get(name, 0))
                           for name in params},
                not_counted=dict(not_counted))


def format_table(model, info: dict) -> str:
    """The model and its top-level parts: params (M) and FLOPs (G)."""
    rows = [('model', *info['by_module'][''])]
    rows += [(name, *info['by_module'][name])
             for name, _ in model.named_children()
             if name in info['by_module'] and name != 'data_preprocessor']
    width = max(len(name) for name, _, _ in rows)
    lines = [f'{"module":<{width}}  {"params (M)":>10}  {"FLOPs (G)":>9}',
             '-' * (width + 23)]
    lines += [f'{name:<{width}}  {params / 1e6:>10.3f}  {flops / 1e9:>9.3f}'
              for name, params, flops in rows]
    return '\n'.join(lines)


def main(argv=None) -> int:
    args = parse_args(argv)
    from serankdet.apis import init_model
    model = init_model(args.config, None, 'cpu', args.cfg_options)
    info = complexity(model, args.shape)
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    height, width = info['shape']
    skipped = ', '.join(
        f'{op.replace("aten::", "")} x{n}'
        for op, n in sorted(info['not_counted'].items(), key=lambda i: -i[1]))
    print(f'{args.config}\ninput 1x{model.data_preprocessor.in_channels}x'
          f'{height}x{width}; FLOPs: 1 multiply-add = 1 FLOP (mmengine)\n\n'
          f'{format_table(model, info)}\n\n'
          f'params: {info["params"]:,} ({trainable:,} trainable)\n'
          f'not counted (no FLOP counter in mmengine): {skipped or "none"}')
    return 0


if __name__ == '__main__':
    sys.exit(run_cli(main))
