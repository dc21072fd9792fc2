"""Inference backends behind one interface.

The ``pytorch`` backend is the segmentor itself. The ``onnxruntime``
backend runs the graph of ``tools/deployment/export_onnx.py`` (preprocessed
input -> main logits) in place of the segmentor's backbone, neck and head
(:attr:`IRSTDSegmentor.deployed_network`): reading, the data preprocessor
(scaling, normalisation, padding), whole-frame or sliding-window inference,
un-padding, resizing and the decision rule stay the model's own code, so
both backends differ only in the network's arithmetic.

The decision rule has one owner: the checkpoint's (its calibrated
``CKPT.decision.json``, else the config's ``model.decode_head`` rule) is
stored by ``export_onnx.py`` in the graph's metadata
(:data:`DECISION_RULE_KEY`, kept by ``quantize_onnx.py``), and
:func:`apply_onnx_rule` puts it into the config a graph runs with, as
:func:`~serankdet.evaluation.calibration.apply_calibration` does for a
checkpoint.
"""
import json
import os.path as osp
from typing import Iterable, List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
from mmengine.logging import print_log
from torch import Tensor

from serankdet.evaluation.calibration import apply_rule, describe_rule
from serankdet.evaluation.functional import DecisionRule
from serankdet.utils import waits_passively

#: The ``backend`` values of ``IRSTDInferencer``, ``tools/infer.py`` and
#: ``tools/test.py``.
BACKENDS = ('pytorch', 'onnxruntime')
#: ONNX metadata key of the input convention (:func:`preprocessing_info`).
PREPROCESSING_KEY = 'serankdet.preprocessing'
#: ONNX metadata key of the decision rule (:func:`decision_rule_info`).
DECISION_RULE_KEY = 'serankdet.decision_rule'
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


def decision_rule_info(rule: DecisionRule,
                       calibration: Optional[str] = None) -> dict:
    """What :data:`DECISION_RULE_KEY` holds (JSON-able): ``decision_rule``
    (threshold, min_area, max_area, seed_threshold) and ``calibration``,
    the name of the calibration file it came from (None: the config's
    ``model.decode_head`` rule, or the export's ``--cfg-options``)."""
    return dict(decision_rule=rule.to_dict(), calibration=calibration)


def read_decision_rule(path: str, metadata: dict
                       ) -> Optional[Tuple[DecisionRule, Optional[str]]]:
    """The rule stored in the metadata of ONNX file ``path`` and the
    calibration file it came from (see :func:`decision_rule_info`); None
    when the graph has none (exported before it was stored).

    Raises:
        ValueError: the stored rule is damaged.
    """
    if DECISION_RULE_KEY not in metadata:
        return None
    try:
        content = json.loads(metadata[DECISION_RULE_KEY])
        return (DecisionRule(**content['decision_rule']),
                content.get('calibration'))
    except (ValueError, KeyError, TypeError) as error:
        raise ValueError(
            f'{path}: its metadata {DECISION_RULE_KEY} is damaged ({error}); '
            're-export it with tools/deployment/export_onnx.py') from None


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
        if waits_passively():
            # as OpenMP's threads: a spinning pool burns the time slices
            # that other work on a busy machine needs
            options.add_session_config_entry(
                'session.intra_op.allow_spinning', '0')
        self.session = onnxruntime.InferenceSession(
            path, options, providers=['CPUExecutionProvider'])
        meta = self.session.get_modelmeta().custom_metadata_map
        self.preprocessing = (json.loads(meta[PREPROCESSING_KEY])
                              if PREPROCESSING_KEY in meta else None)
        #: the stored decision rule and the calibration file it came from
        #: (:func:`read_decision_rule`), None for an older graph
        self.stored_rule = read_decision_rule(path, meta)
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


def apply_onnx_rule(cfg, network: ONNXRuntimeNetwork,
                    overrides: Sequence[str] = ()
                    ) -> Tuple[Optional[str], bool]:
    """Put the decision rule stored in ``network``'s graph into ``cfg.model.
    decode_head`` unless the user decides the rule, as
    :func:`~serankdet.evaluation.calibration.apply_calibration` does with a
    checkpoint's calibration file.

    Args:
        cfg (Config): the config the model will be built from (changed).
        network (ONNXRuntimeNetwork): the graph to be run.
        overrides (Sequence[str]): the user's settings that decide the rule
            (``--threshold``, ``model.decode_head.*`` of
            :func:`~serankdet.evaluation.calibration.rule_options`); the
            stored rule is then not used.

    Returns:
        tuple[str | None, bool]: the line for the log (None: the user's
        rule on a graph that stores none, nothing to say) and whether it is
        a warning (a graph without a stored rule: the config's is used).
    """
    path = network.path
    if network.stored_rule is None:
        if overrides:  # the stored rule would not be used either
            return None, False
        rule = DecisionRule(**{key: cfg.model.decode_head[key] for key in
                               DecisionRule.__dataclass_fields__
                               if key in cfg.model.decode_head})
        return (f'{path} stores no decision rule (exported before '
                f"{DECISION_RULE_KEY} was stored): using the config's "
                f'{describe_rule(rule)}; re-export it (tools/deployment/'
                f'export_onnx.py CONFIG CKPT {path}) to store the '
                "checkpoint's rule, calibrated or not", True)
    rule, calibration = network.stored_rule
    source = f'{path} (ONNX metadata {DECISION_RULE_KEY}' + (
        f', calibrated by {calibration})' if calibration else
        ", the config's at export)")
    return (apply_rule(cfg, rule, source, overrides,
                       kind='calibrated' if calibration else 'stored'),
            False)


def use_onnx_backend(model, network: Union[str, ONNXRuntimeNetwork],
                     num_threads: Optional[int] = None
                     ) -> ONNXRuntimeNetwork:
    """Make ``model`` (an :class:`IRSTDSegmentor`) run its network with
    ONNX Runtime from ``network`` (a path, or the graph opened by
    :class:`ONNXRuntimeNetwork`), keeping its data preprocessor, test_cfg
    and decision rule (see :func:`apply_onnx_rule`); said in the log.

    Raises:
        ValueError: the graph was exported with another input convention
            than ``model``'s data preprocessor (metadata
            :data:`PREPROCESSING_KEY`), or the config's sliding windows do
            not fit a graph of one static size.
    """
    if not isinstance(network, ONNXRuntimeNetwork):
        network = ONNXRuntimeNetwork(network, num_threads)
    path = network.path
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
