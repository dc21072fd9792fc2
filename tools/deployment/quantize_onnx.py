"""Quantize an exported ONNX graph to int8 with calibration frames.

    python tools/deployment/quantize_onnx.py CONFIG MODEL.onnx OUT.onnx
        --calib-dir DIR [--num-frames N] [--cfg-options key=value ...]

Static quantization (``onnxruntime.quantization.quantize_static``): QDQ
format, int8 weights per output channel on 7 bits (``reduce_range``: x86
CPUs without VNNI saturate the uint8 x int8 products of full-range
weights, which moved probabilities by up to 0.38 on a small U-Net, 0.14
with it), uint8 activations whose ranges are the min/max over the
calibration inputs. The calibration inputs are
exactly what the network receives in inference: N frames of DIR (a folder
of the training split, searched recursively, taken evenly spaced over its
sorted list), read by the config's test pipeline, preprocessed by its data
preprocessor and padded or windowed by the segmentor as
``IRSTDInferencer(backend='onnxruntime', onnx_file=MODEL.onnx)`` does. The
result keeps the float graph's metadata, the input convention
(``serankdet.preprocessing``) and the decision rule
(``serankdet.decision_rule``, which the tools apply) among it, and runs
wherever the float graph runs (``--backend onnxruntime --onnx OUT.onnx`` of
``tools/infer.py`` and ``tools/test.py``). The script prints the largest
probability difference between the two graphs on the calibration inputs.
"""
import argparse
import os
import os.path as osp
import sys
import tempfile

from serankdet.cli import CfgOptionsAction, require_packages, run_cli


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Quantize an exported IRSTD ONNX graph to int8')
    parser.add_argument('config', help='the model config of the export')
    parser.add_argument('model', help='float ONNX graph (export_onnx.py)')
    parser.add_argument('out', help='output int8 .onnx file')
    parser.add_argument('--calib-dir', required=True,
                        help='folder of calibration frames (training split)')
    parser.add_argument('--num-frames', type=int, default=32,
                        help='calibration frames (default 32)')
    parser.add_argument('--cfg-options', nargs='+', action=CfgOptionsAction,
                        help='override config keys')
    return parser.parse_args(argv)


def spread(paths, count: int):
    """``count`` of ``paths`` evenly spaced over the list (all if fewer)."""
    if count >= len(paths):
        return list(paths)
    return [paths[i * len(paths) // count] for i in range(count)]


def quantize(model_path: str, out: str, inputs, input_name: str) -> None:
    """Write the int8 QDQ graph of ``model_path`` to ``out``, calibrated
    on ``inputs`` ((1, C, H, W) float32 arrays), with the float graph's
    metadata."""
    import onnx
    from onnxruntime.quantization import (CalibrationDataReader,
                                          CalibrationMethod, QuantFormat,
                                          QuantType, quantize_static)
    from onnxruntime.quantization.shape_inference import quant_pre_process

    class Reader(CalibrationDataReader):

        def __init__(self):
            self.items = iter(inputs)

        def get_next(self):
            item = next(self.items, None)
            return None if item is None else {input_name: item}

    with tempfile.TemporaryDirectory() as tmp:
        # shape inference and graph clean-up, as onnxruntime advises
        prepared = osp.join(tmp, 'prepared.onnx')
        quant_pre_process(model_path, prepared, skip_symbolic_shape=True)
        quantize_static(
            prepared, out, Reader(), quant_format=QuantFormat.QDQ,
            per_channel=True, reduce_range=True,
            activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
            calibrate_method=CalibrationMethod.MinMax)
    props = {p.key: p.value for p in onnx.load(model_path).metadata_props}
    graph = onnx.load(out)
    onnx.helper.set_model_props(graph, props)
    onnx.save(graph, out)


def main(argv=None) -> int:
    args = parse_args(argv)
    require_packages(['onnx', 'onnxruntime'], 'pip install -e .[deploy]',
                     'int8 quantization')
    import torch

    from serankdet.apis import IRSTDInferencer
    from serankdet.apis.backends import (DECISION_RULE_KEY,
                                         ONNXRuntimeNetwork, network_inputs)
    from serankdet.evaluation.calibration import describe_rule
    from serankdet.apis.inferencer import list_images
    if args.num_frames < 1:
        raise ValueError(f'--num-frames must be >= 1, got {args.num_frames}')
    if not osp.isdir(args.calib_dir):
        raise FileNotFoundError(f'--calib-dir "{args.calib_dir}" is not a '
                                'folder')
    frames = spread(list_images(args.calib_dir), args.num_frames)
    inferencer = IRSTDInferencer(model=args.config, backend='onnxruntime',
                                 onnx_file=args.model,
                                 cfg_options=args.cfg_options)
    inputs = network_inputs(inferencer, frames)
    print(f'calibration: {len(frames)} frames of {args.calib_dir}, '
          f'{len(inputs)} network inputs')
    os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
    float_net = inferencer.model.deployed_network
    quantize(args.model, args.out, inputs, float_net.input_name)
    int8_net = ONNXRuntimeNetwork(args.out)
    worst = max(float((torch.sigmoid(int8_net(x)) -
                       torch.sigmoid(float_net(x))).abs().max())
                for x in map(torch.from_numpy, inputs))
    print(f'wrote {args.out} (int8 QDQ, per-channel 7-bit weights, MinMax '
          f'activations, {osp.getsize(args.out) / 2**20:.2f} MiB; float '
          f'{osp.getsize(args.model) / 2**20:.2f} MiB)')
    print('max |p(int8) - p(float32)| on the calibration inputs: '
          f'{worst:.4g}')
    if int8_net.stored_rule is not None:
        print(f'decision rule kept in its metadata ({DECISION_RULE_KEY}): '
              f'{describe_rule(int8_net.stored_rule[0])}')
    return 0


if __name__ == '__main__':
    sys.exit(run_cli(main))
