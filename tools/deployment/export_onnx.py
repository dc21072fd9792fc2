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

The decision rule the checkpoint is used with (threshold, min_area,
max_area, seed_threshold: its calibration file ``CKPT.decision.json`` of
``tools/analysis_tools/calibrate.py`` when it has one and ``--cfg-options``
sets no ``model.decode_head`` rule key, else the config's) is stored in the
ONNX metadata under ``serankdet.decision_rule`` (JSON), and printed;
``--backend onnxruntime`` of ``tools/test.py`` and ``tools/infer.py`` and
``IRSTDInferencer(backend='onnxruntime')`` apply it as they apply a
checkpoint's calibration file.

Two exporters (``--exporter``): ``dynamo`` (default; PyTorch's
``torch.export``-based exporter, needs ``onnxscript``) and ``torchscript``
(the deprecated tracer: fast, needs only ``onnx``, but cannot export every
model, e.g. DATransNet's instance norm over a reshaped tensor). With
``--dynamic`` the batch, height and width become symbolic where the model
allows it (``dynamo`` keeps a dimension static when the model's code
specialises on it; the script prints which are dynamic). After export the
script runs the graph with onnxruntime on random inputs (a second size with
``--dynamic``), prints the largest difference to PyTorch and exits with
status 1 when it exceeds ``--atol``.
"""
import argparse
import json
import logging
import os
import os.path as osp
import sys
import warnings
from typing import List, Optional

import numpy as np
import torch

from serankdet.apis import init_model
from serankdet.apis.backends import (DECISION_RULE_KEY, PREPROCESSING_KEY,
                                     decision_rule_info, preprocessing_info)
from serankdet.cli import CfgOptionsAction, require_packages, run_cli
from serankdet.evaluation.calibration import (apply_rule, describe_rule,
                                              load_calibration, rule_options)

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
    parser.add_argument('--opset', type=int, default=18,
                        help='ONNX opset version (default 18)')
    parser.add_argument('--exporter', choices=('dynamo', 'torchscript'),
                        default='dynamo', help='PyTorch exporter (default '
                        'dynamo, which needs onnxscript)')
    parser.add_argument('--atol', type=float, default=1e-4,
                        help='largest accepted |onnxruntime - PyTorch|')
    parser.add_argument('--cfg-options', nargs='+', action=CfgOptionsAction,
                        help='override config keys')
    return parser.parse_args(argv)


def check_shape(shape, size_divisor) -> tuple:
    div = size_divisor or 1
    if any(s < 1 or s % div for s in shape):
        raise SystemExit(
            f'error: --shape {shape[0]} {shape[1]} must be positive '
            f'multiples of the model\'s size_divisor {div}')
    return tuple(shape)


def run_onnx(path: str, inputs: torch.Tensor) -> np.ndarray:
    import onnxruntime
    session = onnxruntime.InferenceSession(
        path, providers=['CPUExecutionProvider'])
    name = session.get_inputs()[0].name
    return session.run(None, {name: inputs.numpy()})[0]


def dynamic_dims(path: str) -> List[int]:
    """Indices of the symbolic dimensions of the graph's input."""
    import onnx
    dims = onnx.load(path).graph.input[0].type.tensor_type.shape.dim
    return [i for i, dim in enumerate(dims) if not dim.HasField('dim_value')]


def use_checkpoint_rule(model: torch.nn.Module, checkpoint, cfg_options
                        ) -> Optional[str]:
    """Give ``model`` the decision rule ``tools/test.py`` would test
    ``checkpoint`` with: its calibration file's unless ``cfg_options`` sets
    a rule key (then the config's, as built).

    Returns:
        str | None: the calibration file's name (None: the config's rule).
    """
    found = load_calibration(checkpoint) if checkpoint else None
    if found is None:
        return None
    rule, path = found
    overrides = rule_options(cfg_options)
    print(apply_rule(model.cfg, rule, path, overrides))
    if overrides:
        return None
    model.decode_head.decision_rule = rule
    return osp.basename(path)


def export(model: torch.nn.Module, out: str, shape, batch_size=1,
           dynamic=False, opset=18, exporter='dynamo',
           calibration: Optional[str] = None) -> LogitsModel:
    """Write ``model``'s main logits graph for (batch_size, C, *shape).

    The preprocessing the graph expects is stored in the model metadata
    under ``serankdet.preprocessing`` (JSON), ``model.decode_head``'s
    decision rule under ``serankdet.decision_rule`` (JSON of
    :func:`~serankdet.apis.backends.decision_rule_info`, ``calibration``
    the name of the calibration file it came from).
    """
    import onnx
    wrapper = LogitsModel(model).eval()
    channels = model.data_preprocessor.in_channels
    dummy = torch.randn(batch_size, channels, *shape)
    os.makedirs(osp.dirname(osp.abspath(out)), exist_ok=True)
    names = dict(input_names=['input'], output_names=['logits'],
                 opset_version=opset)
    with torch.no_grad(), warnings.catch_warnings():
        # The tracers warn about every shape test in the models; the result
        # is checked numerically instead (on a second size with --dynamic).
        warnings.simplefilter('ignore')
        if exporter == 'dynamo':
            # its op registry logs every optional torchvision op it skips
            logging.getLogger('torch.onnx').setLevel(logging.ERROR)
            auto = torch.export.Dim.AUTO
            torch.onnx.export(
                wrapper, (dummy, ), out, dynamo=True, external_data=False,
                verbose=False, dynamic_shapes=(
                    {0: auto, 2: auto, 3: auto}, ) if dynamic else None,
                **names)
        else:
            axes = {0: 'batch', 2: 'height', 3: 'width'}
            torch.onnx.export(
                wrapper, (dummy, ), out, dynamo=False, dynamic_axes=dict(
                    input=axes, logits=axes) if dynamic else None, **names)
    graph = onnx.load(out)
    onnx.checker.check_model(graph)
    onnx.helper.set_model_props(graph, {
        PREPROCESSING_KEY: json.dumps(preprocessing_info(model)),
        DECISION_RULE_KEY: json.dumps(decision_rule_info(
            model.decode_head.decision_rule, calibration))})
    onnx.save(graph, out)
    return wrapper


def main(argv=None) -> int:
    args = parse_args(argv)
    require_packages(
        ['onnx', 'onnxruntime'] + (['onnxscript'] if args.exporter == 'dynamo'
                                   else []),
        'pip install -e .[deploy]', f'ONNX export ({args.exporter} exporter)')
    torch.manual_seed(0)
    checkpoint = None if args.checkpoint.lower() == 'none' else args.checkpoint
    if checkpoint is not None and not osp.isfile(checkpoint):
        raise FileNotFoundError(f'checkpoint "{checkpoint}" does not exist '
                                "('none': random weights)")
    model = init_model(args.config, checkpoint, 'cpu', args.cfg_options)
    calibration = use_checkpoint_rule(model, checkpoint, args.cfg_options)
    div = model.data_preprocessor.size_divisor
    shape = check_shape(
        args.shape or model.cfg.get('crop_size', DEFAULT_SHAPE), div)
    info = preprocessing_info(model)
    print('ONNX input "input": float32 (B, C, H, W) after preprocessing:')
    for key, value in info.items():
        print(f'  {key}: {value}')
    wrapper = export(model, args.out, shape, args.batch_size, args.dynamic,
                     args.opset, args.exporter, calibration)
    dims = dynamic_dims(args.out)
    names = ('batch', 'channels', 'height', 'width')
    print(f'exported {args.out} ({args.exporter} exporter, opset '
          f'{args.opset}, traced at {args.batch_size}x{info["in_channels"]}'
          f'x{shape[0]}x{shape[1]}; dynamic dimensions: '
          f'{", ".join(names[i] for i in dims) or "none"})')
    origin = (f'calibrated by {calibration}' if calibration else
              "the config's")
    print(f'decision rule stored in its metadata ({DECISION_RULE_KEY}): '
          f'{describe_rule(model.decode_head.decision_rule)}, {origin}')
    sizes = [(args.batch_size, info['in_channels']) + shape]
    if dims:
        # a second input that changes every symbolic dimension
        step = (1, 0, div or 8, 2 * (div or 8))
        sizes.append(tuple(s + step[i] if i in dims else s
                           for i, s in enumerate(sizes[0])))
    worst = 0.0
    for size in sizes:
        inputs = torch.randn(*size)
        with torch.no_grad():
            expected = wrapper(inputs).numpy()
        actual = run_onnx(args.out, inputs)
        if actual.shape != expected.shape:
            print(f'error: onnxruntime gives {actual.shape}, PyTorch '
                  f'{expected.shape}', file=sys.stderr)
            return 1
        diff = float(np.abs(actual - expected).max())
        worst = max(worst, diff)
        print(f'max |onnxruntime - PyTorch| on a random '
              f'{"x".join(map(str, size))} input: {diff:.3g}')
    if worst > args.atol:
        print(f'error: the difference exceeds --atol {args.atol}',
              file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(run_cli(main))
