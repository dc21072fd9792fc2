"""U-Net encoder: the baseline backbone, also DATransNet's encoder."""
from typing import Iterable, Optional, Sequence, Tuple

import torch.nn as nn
from mmcv.cnn import ConvModule
from mmengine.model import BaseModule
from torch import Tensor

from serankdet.registry import MODELS
from ..layers.residual_block import ResidualBlock


def double_conv(in_channels: int, out_channels: int) -> nn.Sequential:
    """Two 3x3 conv-BN-ReLU layers, the U-Net stage."""
    return nn.Sequential(
        ConvModule(in_channels, out_channels, 3, padding=1,
                   norm_cfg=dict(type='BN')),
        ConvModule(out_channels, out_channels, 3, padding=1,
                   norm_cfg=dict(type='BN')))


class PooledStagesEncoder(BaseModule):
    """An optional stem, then stages with 2x2 max pooling between them.

    Stage 0 runs on ``stem(x)`` (the input itself without a stem); stage
    i > 0 on the max-pooled output of stage i - 1. The base of the U-Net,
    DNANet, MSHNet and UIU-Net encoders, which differ only in their stem,
    stages and pooling.

    Input (B, C, H, W) with H, W multiples of ``2**(len(channels) - 1)``
    (the stem keeps H, W); with ``ceil_mode`` any H, W, odd sides pooled up.
    Output: tuple of (B, channels[i], H / 2**i, W / 2**i) (rounded up with
    ``ceil_mode``), finest first.

    Args:
        channels (Sequence[int]): output width of every stage.
        stages (Iterable[nn.Module]): the stages, finest first.
        stem (nn.Module, optional): applied to the input first.
        ceil_mode (bool): pool with ``ceil_mode``, taking any input size.
    """

    def __init__(self, channels: Sequence[int], stages: Iterable[nn.Module],
                 stem: Optional[nn.Module] = None, ceil_mode: bool = False,
                 init_cfg=None):
        super().__init__(init_cfg)
        self.channels = list(channels)
        self.stride = 2**(len(self.channels) - 1)
        self.stem = stem
        self.stages = nn.ModuleList(stages)
        self.ceil_mode = ceil_mode
        self.pool = nn.MaxPool2d(2, ceil_mode=ceil_mode)

    def forward(self, x: Tensor) -> Tuple[Tensor, ...]:
        height, width = x.shape[-2:]
        if not self.ceil_mode and (height % self.stride
                                   or width % self.stride):
            raise ValueError(
                f'{type(self).__name__} needs input sides that are multiples '
                f'of {self.stride}, got {height}x{width}; pad the input '
                '(data_preprocessor.size_divisor).')
        if self.stem is not None:
            x = self.stem(x)
        feats = []
        for index, stage in enumerate(self.stages):
            x = stage(x if index == 0 else self.pool(x))
            feats.append(x)
        return tuple(feats)


@MODELS.register_module()
class UNetEncoder(PooledStagesEncoder):
    """U-Net encoder returning one feature per stage, finest first.

    Stage 0 is a block on the input; stage i > 0 is 2x2 max pooling followed
    by a block (:class:`PooledStagesEncoder`). ``block='double_conv'`` is
    the plain U-Net stage; ``block='residual'`` is :class:`ResidualBlock`
    (DATransNet's encoder: ``channels=(16, 32, 64, 128, 128)``,
    ``block_cfg=dict(negative_slope=0.01)``; the reference's unused sixth
    stage is not built).

    Input (B, in_channels, H, W) with H, W multiples of 2**(stages-1).
    Output: tuple of (B, channels[i], H / 2**i, W / 2**i).

    Args:
        in_channels (int): input channels.
        channels (Sequence[int]): width of every stage.
        block (str): 'double_conv' or 'residual'.
        block_cfg (dict, optional): keyword arguments of the block.
    """
    BLOCKS = dict(double_conv=double_conv, residual=ResidualBlock)

    def __init__(self, in_channels: int = 1,
                 channels: Sequence[int] = (16, 32, 64, 128),
                 block: str = 'double_conv',
                 block_cfg: dict = None,
                 init_cfg=None):
        if block not in self.BLOCKS:
            raise ValueError(f'UNetEncoder block must be one of '
                             f'{sorted(self.BLOCKS)}, got {block!r}')
        make_block = self.BLOCKS[block]
        widths = [in_channels] + list(channels)
        super().__init__(
            channels,
            (make_block(widths[i], widths[i + 1], **(block_cfg or {}))
             for i in range(len(channels))),
            init_cfg=init_cfg)
