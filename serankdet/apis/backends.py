"""Inference backends behind one interface.

The ``pytorch`` backend is the segmentor itself. The ``onnxruntime``
backend runs the graph of ``tools/deployment/export_onnx.py`` (preprocessed
input -> main logits) in place of the segmentor's backbone, neck and head
(:attr:`IRSTDSegmentor.deployed_network`): reading, the data preprocessor
(scaling, normalisation, padding), whole-frame or sliding-window inference,
un-padding, resizing and the decision rule stay the model's own code, so
both backends differ only in the network's arithmetic.
"""
import json
import os.path as osp
from typing import Iterable, List, Optional

import numpy as np
import torch
from mmengine.logging import print_log
from torch import Tensor

#: The ``backend`` values of ``IRSTDInferencer``, ``tools/infer.py`` and
#: ``tools/test.py``.
BACKENDS = ('pytorch', 'onnxruntime')
#: ONNX metadata key of the input convention (:func:`preprocessing_info`).
PREPROCESSING_KEY = 'serankdet.preprocessing'
#: Keys of :func:`preprocessing_info` a graph and a config must agree on.
_MATCHED_KEYS = ('in_channels', 'mean', 'std', 'size_divisor', 'pad_val')


def preprocessing_info(model) -> dict:
    """The input convention of ``model``'s network (JSON-able): what the
    data preprocessor gives it and what its output means. Stored in the
    exported ONNX metadata under :data:`PREPROCESSING_KEY`."""
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


def check_backend(backend: str, onnx_file: Optional[str],
                  weights: Optional[str], device: Optional[str],
                  amp: bool) -> bool:
    """Whether ``backend`` is 'onnxruntime' (else 'pytorch'), checking
    the arguments that go with it (of ``IRSTDInferencer`` and the tools).

    Raises:
        ValueError: an unknown backend, ``onnx_file`` missing for
            onnxruntime or given for pytorch, or weights, a device other
            than the CPU or ``amp`` with onnxruntime.
    """
    if backend not in BACKENDS:
        raise ValueError(f'backend must be one of {", ".join(BACKENDS)}, '
                         f'got {backend!r}')
    onnx = backend == 'onnxruntime'
    if onnx != (onnx_file is not None):
        raise ValueError('an ONNX file (onnx_file=..., --onnx FILE) goes with '
                         "backend 'onnxruntime' and only with it")
    if onnx and weights is not None:
        raise ValueError(f'the ONNX file {onnx_file} holds the weights: give '
                         'no checkpoint with the onnxruntime backend')
    if onnx and (device is None or torch.device(device).type != 'cpu'):
        raise ValueError("the onnxruntime backend runs on the CPU: device "
                         f"'cpu' (--device cpu), got {device!r}")
    if onnx and amp:
        raise ValueError('amp is for the pytorch backend; quantize the ONNX '
                         'file (tools/deployment/quantize_onnx.py) instead')
    return onnx


class ONNXRuntimeNetwork:
    """An exported graph run by ONNX Runtime's CPU provider, called as the
    segmentor's network: (B, C, H, W) preprocessed float -> (B, 1, H, W)
    float32 logits, on the input's device.

    A graph with a static batch of one runs a batch frame by frame. A graph
    of one static size S x S (e.g. ``export_onnx.py`` with the dynamo
    exporter on SeRankDet or SAM-SPL) states ``max_input_side =
    min_input_side = S``: the segmentor pads smaller frames up to S and runs
    larger ones in S x S sliding windows.

    Args:
        path (str): the ``.onnx`` file.
        num_threads (int, optional): intra-op threads; None: torch's
            (:func:`torch.get_num_threads`).

    Raises:
        FileNotFoundError: no such file.
        ValueError: a static batch other than 1, or a static size that is
            not square.
    """

    def __init__(self, path: str, num_threads: Optional[int] = None):
        import onnxruntime
        if not osp.isfile(path):
            raise FileNotFoundError(f'ONNX file "{path}" does not exist')
        self.path = path
        self.threads_from = ('given' if num_threads else
                             'torch.get_num_threads()')
        self.num_threads = num_threads or torch.get_num_threads()
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = self.num_threads
        options.inter_op_num_threads = 1
        self.session = onnxruntime.InferenceSession(
            path, options, providers=['CPUExecutionProvider'])
        meta = self.session.get_modelmeta().custom_metadata_map
        self.preprocessing = (json.loads(meta[PREPROCESSING_KEY])
                              if PREPROCESSING_KEY in meta else None)
        graph_input = self.session.get_inputs()[0]
        self.input_name = graph_input.name
        batch, _, height, width = (d if isinstance(d, int) else None
                                   for d in graph_input.shape)
        if batch not in (None, 1):
            raise ValueError(
                f'{path} takes batches of exactly {batch}: export it with '
                '--batch-size 1 or --dynamic')
        self.static_batch = batch == 1
        self.input_shape = (None if height is None and width is None else
                            (height, width))
        if self.input_shape is not None and height != width:
            raise ValueError(
                f'{path} takes only {height}x{width} inputs (dimensions '
                f'{graph_input.shape}): export it at a square --shape S S '
                '(frames then run in S x S windows) or with dynamic height '
                'and width')
        self.max_input_side = self.min_input_side = height

    def __call__(self, inputs: Tensor) -> Tensor:
        """Logits (B, 1, H, W) float32 of the preprocessed (B, C, H, W)."""
        array = np.ascontiguousarray(inputs.detach().float().cpu().numpy())
        chunks = ([array[i:i + 1] for i in range(len(array))]
                  if self.static_batch else [array])
        logits = [self.session.run(None, {self.input_name: chunk})[0]
                  for chunk in chunks]
        return torch.from_numpy(np.concatenate(logits)).to(inputs.device)

    def describe(self) -> str:
        """One line for the log: file, provider, threads, input size."""
        size = ('any height and width' if self.input_shape is None else
                '{}x{} (other frames padded or in windows of it)'.format(
                    *self.input_shape))
        return (f'onnxruntime backend: {self.path}, CPUExecutionProvider, '
                f'{self.num_threads} intra-op threads '
                f'({self.threads_from}), input {size}')


def use_onnx_backend(model, path: str,
                     num_threads: Optional[int] = None
                     ) -> ONNXRuntimeNetwork:
    """Make ``model`` (an :class:`IRSTDSegmentor`) run its network with
    ONNX Runtime from ``path``, keeping its data preprocessor, test_cfg and
    decision rule; said in the log.

    Raises:
        ValueError: the graph was exported with another input convention
            than ``model``'s data preprocessor (metadata
            :data:`PREPROCESSING_KEY`), or the config's sliding windows do
            not fit a graph of one static size.
    """
    network = ONNXRuntimeNetwork(path, num_threads)
    if network.preprocessing is not None:
        expected = preprocessing_info(model)
        differ = [f'{key} {network.preprocessing.get(key)} (config: '
                  f'{expected[key]})' for key in _MATCHED_KEYS
                  if network.preprocessing.get(key) != expected[key]]
        if differ:
            raise ValueError(f'{path} was exported for another data '
                             f'preprocessor: {", ".join(differ)}')
    crop = model.test_cfg.get('crop_size')
    if (network.input_shape is not None and
            model.test_cfg.get('mode', 'whole') == 'slide'
            and tuple(crop) != network.input_shape):
        raise ValueError(
            f'{path} takes only {network.input_shape[0]}x'
            f'{network.input_shape[1]} inputs, the sliding windows are '
            f'{crop[0]}x{crop[1]}: use windows of its size or export it '
            'with dynamic height and width')
    model.deployed_network = network
    print_log(network.describe(), logger='current')
    return network


class InputRecorder:
    """Stands in for a deployed network and keeps what it is given.

    Every batch the segmentor hands its network (whole frames or sliding
    windows, preprocessed) is stored frame by frame in :attr:`inputs` as
    (1, C, H, W) float32 arrays; the logits returned are zeros.

    Args:
        network: the network whose input limits (``max_input_side``,
            ``min_input_side``) it keeps.
    """

    def __init__(self, network):
        self.max_input_side = getattr(network, 'max_input_side', None)
        self.min_input_side = getattr(network, 'min_input_side', None)
        self.inputs: List[np.ndarray] = []

    def __call__(self, inputs: Tensor) -> Tensor:
        array = inputs.detach().float().cpu().numpy()
        self.inputs.extend(np.ascontiguousarray(array[i:i + 1])
                           for i in range(len(array)))
        return inputs.new_zeros((len(inputs), 1) + inputs.shape[-2:])


def network_inputs(inferencer, frames: Iterable) -> List[np.ndarray]:
    """The inputs ``inferencer``'s network receives for ``frames``: read by
    its pipeline, preprocessed by the model's data preprocessor, padded or
    windowed by the segmentor, exactly as in inference (e.g. the
    calibration data of a quantized graph).

    Returns:
        list[np.ndarray]: (1, C, H, W) float32 arrays, one per frame or
        window, in order.

    Raises:
        Exception: the error of a frame that cannot be read.
    """
    model = inferencer.model
    network = model.deployed_network
    recorder = InputRecorder(network)
    model.deployed_network = recorder
    try:
        for _, result in inferencer.stream(frames, return_datasamples=True):
            if isinstance(result, Exception):
                raise result
    finally:
        model.deployed_network = network
    return recorder.inputs
