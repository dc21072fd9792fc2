"""Encoder-decoder segmentor for binary IRSTD (mmseg EncoderDecoder style)."""
import math
from typing import List, Optional

import torch
import torch.nn.functional as F
from mmengine.logging import print_log
from mmengine.structures import PixelData
from mmseg.models.segmentors import BaseSegmentor
from mmseg.structures import SegDataSample
from torch import Tensor

from serankdet.registry import MODELS


@MODELS.register_module()
class IRSTDSegmentor(BaseSegmentor):
    """backbone -> optional neck -> head, producing one-channel logits.

    ``forward(mode='tensor')`` returns the main logits (B, 1, H, W) at the
    input resolution, before any sigmoid. ``mode='loss'`` returns the head's
    (deep-supervised) losses. ``mode='predict'`` returns ``SegDataSample``s
    whose ``seg_logits`` are the main logits un-padded and resized to the
    original frame size and whose ``pred_sem_seg`` is the mask of the
    head's decision rule (``decode_head.decision_rule``: ``sigmoid(logits)
    > threshold``, then the optional area bounds and hysteresis).

    Args:
        backbone (dict): backbone config; returns features finest first.
        decode_head (dict): a :class:`BaseIRSTDHead` config.
        neck (dict, optional): neck config (features in, features out).
        data_preprocessor (dict): the model's input convention.
        test_cfg (dict, optional): ``mode='whole'`` (default) or
            ``mode='slide'`` with ``crop_size`` (h, w) and ``stride`` (h, w)
            for tiled inference with averaged logits. In whole mode a frame
            with a side above :attr:`max_input_side`, or whose pass would
            need more than ``test_cfg['max_memory']`` bytes
            (:data:`WHOLE_PASS_MEMORY` by default; see
            :meth:`max_whole_pixels`), runs in the sliding windows of
            :meth:`auto_slide_cfg`, said once in the log. In
            both modes a frame with a side below :attr:`min_input_side` is
            zero-padded (bottom/right) up to it and its logits cropped back.
    """

    #: Default memory, in bytes, one whole-frame pass of a batch may need
    #: before frames run in sliding windows (``test_cfg['max_memory']``).
    WHOLE_PASS_MEMORY = 8 << 30
    #: Side of the probe frame :meth:`activation_bytes_per_pixel` runs.
    PROBE_SIDE = 64

    def __init__(self,
                 backbone: dict,
                 decode_head: dict,
                 neck: Optional[dict] = None,
                 data_preprocessor: Optional[dict] = None,
                 train_cfg: Optional[dict] = None,
                 test_cfg: Optional[dict] = None,
                 init_cfg: Optional[dict] = None):
        super().__init__(data_preprocessor=data_preprocessor,
                         init_cfg=init_cfg)
        self.backbone = MODELS.build(backbone)
        self.neck = MODELS.build(neck) if neck is not None else None
        self.decode_head = MODELS.build(decode_head)
        self.align_corners = self.decode_head.align_corners
        self.train_cfg = train_cfg or {}
        self.test_cfg = test_cfg or dict(mode='whole')
        self._slide_notice_given = False
        self._bytes_per_pixel = None
        #: A deployed network (e.g. an ONNX Runtime session,
        #: :class:`~serankdet.apis.backends.ONNXRuntimeNetwork`) that
        #: replaces backbone, neck and head in :meth:`encode_decode`:
        #: preprocessed (B, C, H, W) -> main logits (B, 1, H, W). Its
        #: ``max_input_side`` / ``min_input_side`` (a graph of one static
        #: size) join the network's limits. None: the PyTorch modules.
        self.deployed_network = None

    def _input_limits(self, name: str) -> List[int]:
        limits = [getattr(module, name, None) for module in (
            self.backbone, self.neck, self.deployed_network)]
        return [limit for limit in limits if limit]

    @property
    def max_input_side(self) -> Optional[int]:
        """Largest input side the network takes in one pass (None: any),
        the smallest ``max_input_side`` its backbone, neck and
        :attr:`deployed_network` state (e.g. SeRankDet's position tables,
        a static ONNX graph)."""
        limits = self._input_limits('max_input_side')
        return min(limits) if limits else None

    @property
    def min_input_side(self) -> Optional[int]:
        """Smallest input side the network takes (None: any), the largest
        ``min_input_side`` its backbone, neck and :attr:`deployed_network`
        state (e.g. SeRankDet's Top-K needs enough pixels at its deepest
        stage)."""
        limits = self._input_limits('min_input_side')
        return max(limits) if limits else None

    @torch.no_grad()
    def activation_bytes_per_pixel(self, inputs: Tensor) -> float:
        """Bytes of layer outputs per input pixel and frame, measured once
        on a zero frame of :attr:`PROBE_SIDE` (or :attr:`min_input_side`)
        with the channels and type of ``inputs``: the sum over the leaf
        modules' outputs, an upper bound of what a pass without gradients
        holds at once."""
        if self._bytes_per_pixel is None:
            div = getattr(self.data_preprocessor, 'size_divisor', None) or 1
            side = max(self.PROBE_SIDE, self.min_input_side or 0)
            side = -(-side // div) * div
            total = 0

            def count(module, args, output):
                nonlocal total
                for out in (output if isinstance(output, (list, tuple))
                            else [output]):
                    if isinstance(out, Tensor):
                        total += out.numel() * out.element_size()

            handles = [module.register_forward_hook(count)
                       for module in self.modules()
                       if next(module.children(), None) is None]
            modes = [(module, module.training) for module in self.modules()]
            try:
                self.eval()  # no batch-norm statistics are updated
                self.forward_outputs(inputs.new_zeros(
                    (1, inputs.shape[1], side, side)))
            finally:
                for module, training in modes:
                    module.training = training
                for handle in handles:
                    handle.remove()
            self._bytes_per_pixel = total / side ** 2
        return self._bytes_per_pixel

    def max_whole_pixels(self, inputs: Tensor) -> int:
        """Most pixels per frame a batch like ``inputs`` may have to run in
        one pass: ``test_cfg['max_memory']`` (default
        :data:`WHOLE_PASS_MEMORY`) over the batch size and
        :meth:`activation_bytes_per_pixel`."""
        memory = self.test_cfg.get('max_memory', self.WHOLE_PASS_MEMORY)
        return int(memory / (len(inputs) *
                             self.activation_bytes_per_pixel(inputs)))

    def auto_slide_cfg(self, max_pixels: Optional[int] = None) -> dict:
        """Sliding windows for frames above :attr:`max_input_side` or above
        ``max_pixels`` (:meth:`max_whole_pixels`): square windows of the
        largest multiple of the size divisor within both limits,
        overlapping by an eighth (rounded to the divisor) so that window
        borders are averaged."""
        div = getattr(self.data_preprocessor, 'size_divisor', None) or 1
        limits = [self.max_input_side] if self.max_input_side else []
        if max_pixels is not None:
            limits.append(math.isqrt(max_pixels))
        tile = max(div, min(limits) // div * div)
        overlap = max(div, tile // 8 // div * div)
        return dict(mode='slide', crop_size=(tile, tile),
                    stride=(tile - overlap, tile - overlap))

    def extract_feat(self, inputs: Tensor):
        feats = self.backbone(inputs)
        if self.neck is not None:
            feats = self.neck(feats)
        return feats

    def forward_outputs(self, inputs: Tensor) -> List[Tensor]:
        """All head outputs ``[main, aux...]``, each (B, 1, h, w) logits.

        Under mixed-precision autocast the outputs are raised to float32
        (float64 stays float64): losses and metrics sum over many pixels,
        which bfloat16/float16 cannot do accurately.
        """
        return [logits.to(torch.promote_types(logits.dtype, torch.float32))
                for logits in self.decode_head(self.extract_feat(inputs))]

    def encode_decode(self, inputs: Tensor, batch_img_metas=None) -> Tensor:
        """Main logits (B, 1, H, W) at the input resolution, of
        :attr:`deployed_network` when one is set."""
        if self.deployed_network is not None:
            logits = self.deployed_network(inputs)
        else:
            logits = self.forward_outputs(inputs)[0]
        if logits.shape[-2:] != inputs.shape[-2:]:
            logits = F.interpolate(logits, inputs.shape[-2:], mode='bilinear',
                                   align_corners=self.align_corners)
        return logits

    def _forward(self, inputs: Tensor, data_samples=None) -> Tensor:
        return self.encode_decode(inputs)

    def loss(self, inputs: Tensor, data_samples) -> dict:
        target = torch.stack([s.gt_sem_seg.data for s in data_samples])
        target = (target > 0).to(inputs.dtype)
        return self.decode_head.loss_by_outputs(
            self.forward_outputs(inputs), target)

    def inference(self, inputs: Tensor, batch_img_metas=None) -> Tensor:
        mode = self.test_cfg.get('mode', 'whole')
        height, width = inputs.shape[-2:]
        smallest = self.min_input_side
        if smallest and min(height, width) < smallest:
            # zeros are the mean gray level after the data preprocessor
            padded = F.pad(inputs, (0, max(0, smallest - width), 0,
                                    max(0, smallest - height)))
            return self.inference(padded)[..., :height, :width]
        if mode == 'whole':
            limit = self.max_input_side
            max_pixels = self.max_whole_pixels(inputs)
            if height * width > max_pixels:
                cfg = self.auto_slide_cfg(max_pixels)
                memory = self.test_cfg.get('max_memory',
                                           self.WHOLE_PASS_MEMORY)
                reason = (f'a pass over more than {max_pixels} pixels per '
                          f'frame (batches of {len(inputs)}) would need more '
                          f'than test_cfg.max_memory={memory} bytes')
            elif limit is not None and max(height, width) > limit:
                cfg = self.auto_slide_cfg()
                limiting = next(module for module in (
                    self.backbone, self.neck, self.deployed_network)
                    if getattr(module, 'max_input_side', None) == limit)
                reason = (f'{type(limiting).__name__} takes input sides '
                          f'up to {limit} in one pass')
            else:
                return self.encode_decode(inputs)
            if not self._slide_notice_given:
                self._slide_notice_given = True
                print_log(
                    f'{reason}: larger frames (first {height}x{width}) run '
                    f'in {cfg["crop_size"][0]}x{cfg["crop_size"][1]} sliding '
                    f'windows with stride {cfg["stride"][0]} (set '
                    "model.test_cfg=dict(mode='slide', ...) to choose)",
                    logger='current')
            return self.slide_inference(inputs, cfg)
        if mode == 'slide':
            return self.slide_inference(inputs)
        raise ValueError(
            f"test_cfg.mode must be 'whole' or 'slide', got {mode!r}")

    def slide_inference(self, inputs: Tensor,
                        test_cfg: Optional[dict] = None) -> Tensor:
        """Average the logits of overlapping ``crop_size`` windows.

        Windows move by ``stride`` (of ``test_cfg``, default
        ``self.test_cfg``); the last window of each row/column is aligned to
        the border so every pixel is covered. Frames smaller than a window
        are processed whole.
        """
        test_cfg = test_cfg or self.test_cfg
        crop_h, crop_w = test_cfg['crop_size']
        stride_h, stride_w = test_cfg['stride']
        batch, _, height, width = inputs.shape
        if height <= crop_h and width <= crop_w:
            return self.encode_decode(inputs)
        summed = inputs.new_zeros((batch, 1, height, width))
        counts = inputs.new_zeros((1, 1, height, width))
        for top in _window_starts(height, crop_h, stride_h):
            for left in _window_starts(width, crop_w, stride_w):
                window = inputs[..., top:top + crop_h, left:left + crop_w]
                summed[..., top:top + crop_h, left:left + crop_w] += \
                    self.encode_decode(window)
                counts[..., top:top + crop_h, left:left + crop_w] += 1
        return summed / counts

    def predict(self, inputs: Tensor, data_samples=None):
        return self.postprocess_result(self.inference(inputs), data_samples)

    def postprocess_result(self, seg_logits: Tensor, data_samples=None):
        """Un-pad, resize to ``ori_shape`` and apply the decision rule.

        Unlike mmseg's version, ``seg_logits`` keeps logits (not sigmoid
        probabilities), so metrics threshold once, in probability space.
        ``pred_sem_seg`` (1, H, W) long is
        ``decode_head.decision_rule.apply(seg_logits)``.
        """
        if data_samples is None:
            data_samples = [SegDataSample() for _ in range(len(seg_logits))]
        height, width = seg_logits.shape[-2:]
        for logits, sample in zip(seg_logits, data_samples):
            meta = sample.metainfo
            left, right, top, bottom = meta.get('padding_size', (0, 0, 0, 0))
            logits = logits[:, top:height - bottom, left:width - right]
            if meta.get('flip', False):
                dim = 2 if meta.get('flip_direction') == 'horizontal' else 1
                logits = logits.flip(dims=(dim, ))
            ori_shape = tuple(meta.get('ori_shape', logits.shape[-2:]))[:2]
            if tuple(logits.shape[-2:]) != ori_shape:
                logits = F.interpolate(logits[None], ori_shape,
                                       mode='bilinear',
                                       align_corners=self.align_corners)[0]
            mask = self.decode_head.decision_rule.apply(
                logits[0].detach().cpu().numpy())
            sample.set_data(dict(
                seg_logits=PixelData(data=logits),
                pred_sem_seg=PixelData(data=torch.from_numpy(mask)[None].to(
                    device=logits.device, dtype=torch.long))))
        return data_samples


def _window_starts(size: int, crop: int, stride: int) -> List[int]:
    """Start offsets of windows of ``crop`` covering ``size`` with ``stride``."""
    if size <= crop:
        return [0]
    starts = list(range(0, size - crop, stride))
    starts.append(size - crop)
    return starts
