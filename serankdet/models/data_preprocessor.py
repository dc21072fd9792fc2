"""Data preprocessor: each model's input convention lives here, not in the data."""
from numbers import Number
from typing import Any, Dict, Optional, Sequence

import torch
import torch.nn.functional as F
from mmengine.model import BaseDataPreprocessor
from mmengine.structures import PixelData

from serankdet.registry import MODELS


@MODELS.register_module()
class IRSTDDataPreProcessor(BaseDataPreprocessor):
    """Scale, replicate, normalize and pad IR frames.

    Datasets deliver frames at their native bit depth, gray (1, H, W) or
    RGB (3, H, W) (``LoadIRSTDImageFromFile(color_type='rgb')``), with
    ``img_max_value`` in the metainfo (255 for 8-bit, 65535 for 16-bit). Per
    sample this computes ``x / img_max_value`` (so every bit depth maps to
    [0, 1]), brings the frame to ``in_channels`` channels (gray is repeated,
    as the references that use ImageNet statistics copy gray into RGB; RGB
    is kept for a 3-channel network and reduced to BT.601 luma
    ``0.299 R + 0.587 G + 0.114 B`` for a 1-channel one), and applies
    ``(x - mean) / std`` per channel with ``mean``/``std`` on the [0, 1]
    scale. Samples
    are then stacked into (B, in_channels, H', W'), right/bottom padded to the
    largest sample and to a multiple of ``size_divisor`` (masks padded with
    background); ``padding_size`` is recorded so predictions are un-padded.

    Args:
        in_channels (int): channels the network takes (1 or 3).
        mean (Sequence[float] | float): per-channel mean on the [0, 1] scale.
            None (in the model bases that standardise with the dataset's
            statistics) is refused: the config gives its dataset's.
        std (Sequence[float] | float): per-channel std on the [0, 1] scale.
        size_divisor (int, optional): pad sides to a multiple of this, e.g.
            the network's total stride. None: pad only to the batch maximum.
        pad_val (float): value of padded pixels after normalization.
    """

    def __init__(self,
                 in_channels: int = 1,
                 mean: Optional[Sequence[float]] = (0.0, ),
                 std: Optional[Sequence[float]] = (1.0, ),
                 size_divisor: Optional[int] = None,
                 pad_val: float = 0.0):
        super().__init__()
        if in_channels not in (1, 3):
            raise ValueError(f'in_channels must be 1 or 3, got {in_channels}')
        if mean is None or std is None:
            raise ValueError(
                'model.data_preprocessor: mean and std are not set; this '
                'model standardises its input with the statistics of the '
                'dataset: give them in the config, e.g. model = dict('
                'data_preprocessor=recipes.normalization('
                '_base_.img_norm_cfg)) with a dataset config that states '
                'img_norm_cfg (configs/_base_/datasets/)')
        mean = [mean] * in_channels if isinstance(mean, Number) else list(mean)
        std = [std] * in_channels if isinstance(std, Number) else list(std)
        if len(mean) != in_channels or len(std) != in_channels:
            raise ValueError(
                f'mean {mean} and std {std} need {in_channels} values each '
                f'(in_channels={in_channels})')
        self.in_channels = in_channels
        self.size_divisor = size_divisor
        self.pad_val = pad_val
        self.register_buffer('mean', torch.tensor(mean).view(-1, 1, 1), False)
        self.register_buffer('std', torch.tensor(std).view(-1, 1, 1), False)

    def normalize(self, img: torch.Tensor, max_value: float) -> torch.Tensor:
        """Map one native-range frame (1, H, W) or RGB (3, H, W) to the
        network input (in_channels, H, W).

        Raises:
            ValueError: a frame with another number of channels.
        """
        if img.shape[0] not in (1, 3):
            raise ValueError(
                f'IRSTDDataPreProcessor takes gray (1, H, W) or RGB '
                f'(3, H, W) frames, got shape {tuple(img.shape)}')
        img = img.to(self.mean.device).float() / float(max_value)
        if img.shape[0] == 3 and self.in_channels == 1:
            weights = img.new_tensor([0.299, 0.587, 0.114])
            img = (img * weights.view(-1, 1, 1)).sum(0, keepdim=True)
        img = img.expand(self.in_channels, -1, -1)
        return (img - self.mean) / self.std

    def forward(self, data: dict, training: bool = False) -> Dict[str, Any]:
        data = self.cast_data(data)
        data_samples = data.get('data_samples', None)
        inputs = data['inputs']
        if isinstance(inputs, torch.Tensor) and inputs.dim() == 3:
            inputs = [inputs]
        if data_samples is None:
            max_values = [255.0] * len(inputs)
        else:
            max_values = [s.metainfo.get('img_max_value', 255.0)
                          for s in data_samples]
        inputs = [self.normalize(img, v) for img, v in zip(inputs, max_values)]
        return dict(inputs=self.pad_and_stack(inputs, data_samples, training),
                    data_samples=data_samples)

    def pad_and_stack(self, inputs, data_samples=None, training=False):
        """Pad (C, H, W) inputs to one size divisible by ``size_divisor``.

        Padding goes right and bottom. With data samples, ``img_shape``,
        ``pad_shape`` and ``padding_size`` (left, right, top, bottom) are
        recorded; in training the masks are padded with background too (at
        test time they stay at native size for the metric).
        """
        heights = [x.shape[-2] for x in inputs]
        widths = [x.shape[-1] for x in inputs]
        div = self.size_divisor or 1
        pad_h = -(-max(heights) // div) * div
        pad_w = -(-max(widths) // div) * div
        padded = []
        for i, img in enumerate(inputs):
            padding = (0, pad_w - img.shape[-1], 0, pad_h - img.shape[-2])
            padded.append(F.pad(img, padding, value=self.pad_val))
            if data_samples is None:
                continue
            sample = data_samples[i]
            if training and 'gt_sem_seg' in sample:
                sample.gt_sem_seg = PixelData(data=F.pad(
                    sample.gt_sem_seg.data, padding, value=0))
            sample.set_metainfo(dict(img_shape=tuple(img.shape[-2:]),
                                     pad_shape=(pad_h, pad_w),
                                     padding_size=padding))
        return torch.stack(padded)
