"""Export a model's main logits to ONNX and check them with onnxruntime.

    python tools/deployment/export_onnx.py CONFIG CKPT OUT.onnx
        [--shape H W] [--batch-size N] [--dynamic] [--opset N] [--atol A]
        [--cfg-options key=value ...]

The ONNX graph maps the *preprocessed* input to the main logits:

* input ``input``: float32 (B, C, H, W), the frame divided by its full-scale
  value (255 for 8-bit, 65535 for 16-bit), the gray channel repeated to C =
  in_channels, normalised as (x - mean) / std and padded right/bottom with
  pad_val to multiples of size_divisor (all printed by this script and
  stored in the ONNX metadata);
* output ``logits``: float32 (B, 1, H, W); sigmoid gives the target
  probability, a pixel is a target when it exceeds the printed threshold.

The export uses PyTorch's TorchScript-based exporter (``dynamo=False``): it
needs only ``onnx`` and ``onnxruntime`` (no ``onnxscript``) and exports the
fixed-size shapes these models produce. After export the script runs the
graph with onnxruntime on a random input, prints the largest difference to
PyTorch and exits with status 1 when it exceeds ``--atol``.
"""
import argparse
import json
import os
import os.path as osp
import sys
import warnings

import numpy as np
import torch
from mmengine.config import DictAction

from serankdet.apis import init_model

DEFAULT_SHAPE = (256, 256)


class LogitsModel(torch.nn.Module):
    """``forward(x) = model(x, mode='tensor')``: (B, C, H, W) -> (B, 1, H, W).

    The data preprocessor is not part of the graph; ``x`` is already scaled,
    normalised and padded.
    """

    def __init__(self, model: torch.nn.Module):
        super().__init__()
        self.model = model

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        return self.model(inputs, mode='tensor')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Export an IRSTD model to ONNX (main logits)')
    parser.add_argument('config', help='model config file')
    parser.add_argument('checkpoint', help="checkpoint file ('none': random "
                        'weights, to try whether a model exports)')
    parser.add_argument('out', help='output .onnx file')
    parser.add_argument('--shape', type=int, nargs=2, metavar=('H', 'W'),
                        help='input size of the export and of the check '
                        f'(default: the config crop_size or {DEFAULT_SHAPE})')
    parser.add_argument('--batch-size', type=int, default=1)
    parser.add_argument('--dynamic', action='store_true',
                        help='dynamic batch, height and width')
    parser.add_argument('--opset', type=int, default=17,
                        help='ONNX opset version (default 17)')
    parser.add_argument('--atol', type=float, default=1e-4,
                        help='largest accepted |onnxruntime - PyTorch|')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config keys')
    return parser.parse_args(argv)


def preprocessing_info(model) -> dict:
    """The input convention the ONNX graph expects (printable, JSON-able)."""
    pre = model.data_preprocessor
    return dict(
        in_channels=pre.in_channels,
        scaling='divide by the full-scale value (255 for 8-bit, 65535 for '
        '16-bit frames), gray repeated to in_channels',
        mean=[float(v) for v in pre.mean.flatten()],
        std=[float(v) for v in pre.std.flatten()],
        size_divisor=pre.size_divisor,
        pad_val=float(pre.pad_val),
        threshold=float(model.decode_head.threshold),
        output='logits (B, 1, H, W); probability = sigmoid(logits)')


def check_shape(shape, size_divisor) -> tuple:
    div = size_divisor or 1
    if any(s < 1 or s % div for s in shape):
        raise SystemExit(
            f'error: --shape {shape[0]} {shape[1]} must be positive '
            f'multiples of the model\'s size_divisor {div}')
    return tuple(shape)


def onnx_difference(path: str, wrapper: torch.nn.Module,
                    inputs: torch.Tensor) -> float:
    """Largest |onnxruntime(inputs) - wrapper(inputs)|."""
    import onnxruntime
    session = onnxruntime.InferenceSession(
        path, providers=['CPUExecutionProvider'])
    (ort_out, ) = session.run(['logits'], {'input': inputs.numpy()})
    with torch.no_grad():
        torch_out = wrapper(inputs).numpy()
    if ort_out.shape != torch_out.shape:
        raise SystemExit(f'error: onnxruntime gives {ort_out.shape}, '
                         f'PyTorch {torch_out.shape}')
    return float(np.abs(ort_out - torch_out).max())


def export(model: torch.nn.Module, out: str, shape, batch_size=1,
           dynamic=False, opset=17) -> LogitsModel:
    """Write ``model``'s main logits graph for (batch_size, C, *shape)."""
    import onnx
    wrapper = LogitsModel(model).eval()
    channels = model.data_preprocessor.in_channels
    dummy = torch.randn(batch_size, channels, *shape)
    axes = {0: 'batch', 2: 'height', 3: 'width'}
    os.makedirs(osp.dirname(osp.abspath(out)), exist_ok=True)
    with torch.no_grad(), warnings.catch_warnings():
        # The tracer warns about every shape test in the models; the result
        # is checked numerically instead (on a second size with --dynamic).
        warnings.simplefilter('ignore', torch.jit.TracerWarning)
        warnings.simplefilter('ignore', DeprecationWarning)
        torch.onnx.export(
            wrapper, (dummy, ), out, dynamo=False, opset_version=opset,
            input_names=['input'], output_names=['logits'],
            dynamic_axes=dict(input=axes, logits=axes) if dynamic else None)
    graph = onnx.load(out)
    onnx.checker.check_model(graph)
    onnx.helper.set_model_props(graph, {
        'serankdet.preprocessing': json.dumps(preprocessing_info(model))})
    onnx.save(graph, out)
    return wrapper


def main(argv=None) -> int:
    args = parse_args(argv)
    torch.manual_seed(0)
    checkpoint = None if args.checkpoint.lower() == 'none' else args.checkpoint
    model = init_model(args.config, checkpoint, 'cpu', args.cfg_options)
    div = model.data_preprocessor.size_divisor
    shape = check_shape(
        args.shape or model.cfg.get('crop_size', DEFAULT_SHAPE), div)
    info = preprocessing_info(model)
    print('ONNX input "input": float32 (B, C, H, W) after preprocessing:')
    for key, value in info.items():
        print(f'  {key}: {value}')
    wrapper = export(model, args.out, shape, args.batch_size, args.dynamic,
                     args.opset)
    print(f'exported {args.out} (opset {args.opset}, '
          f'{"dynamic" if args.dynamic else "static"} shape, traced at '
          f'{args.batch_size}x{info["in_channels"]}x{shape[0]}x{shape[1]})')
    checks = [(args.batch_size, shape)]
    if args.dynamic:
        step = div or 8
        checks.append((args.batch_size + 1, (shape[0] + step,
                                              shape[1] + 2 * step)))
    worst = 0.0
    for batch, size in checks:
        inputs = torch.randn(batch, info['in_channels'], *size)
        diff = onnx_difference(args.out, wrapper, inputs)
        worst = max(worst, diff)
        print(f'max |onnxruntime - PyTorch| on a random {batch}x'
              f'{info["in_channels"]}x{size[0]}x{size[1]} input: {diff:.3g}')
    if worst > args.atol:
        print(f'error: the difference exceeds --atol {args.atol}',
              file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
