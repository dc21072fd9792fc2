"""DNANet's encoder (Li et al., TIP 2023): a column of Res-CBAM stages."""
from typing import Sequence

import torch.nn as nn
from mmengine.model import BaseModule

from serankdet.registry import MODELS
from .mshnet import residual_cbam_stage


def xavier_normal_conv_weights(module: nn.Module) -> None:
    """DNANet's initialisation: Xavier-normal weights of every ``Conv2d``;
    biases and BatchNorm keep PyTorch's defaults."""
    for layer in module.modules():
        if isinstance(layer, nn.Conv2d):
            nn.init.xavier_normal_(layer.weight)


@MODELS.register_module()
class DNANetEncoder(BaseModule):
    """The downsampling column of DNANet (``conv{i}_0`` of the reference).

    Stage 0 is one Res-CBAM block on the input; stage i > 0 is 2x2 max
    pooling followed by ``num_blocks[i - 1]`` Res-CBAM blocks
    (:func:`residual_cbam_stage`: :class:`ResidualBlock` with ReLU and a
    CBAM gate of channel reduction 16, the same blocks as MSHNet's).
    ``num_blocks=(2, 2, 2, 2)`` is the paper's "ResNet-18" backbone,
    ``(1, 1, 1, 1)`` "ResNet-10", ``(3, 4, 6, 3)`` "ResNet-34"; ``channels``
    (16, 32, 64, 128, 256) is the reference's ``channel_size='three'``.

    Input (B, in_channels, H, W) with H, W multiples of 16.
    Output: tuple of 5 features (B, channels[i], H / 2**i, W / 2**i).

    Args:
        in_channels (int): input channels (3: the reference copies gray
            frames into RGB).
        channels (Sequence[int]): width of the 5 stages.
        num_blocks (Sequence[int]): Res-CBAM blocks of stages 1 to 4.
    """

    def __init__(self,
                 in_channels: int = 3,
                 channels: Sequence[int] = (16, 32, 64, 128, 256),
                 num_blocks: Sequence[int] = (2, 2, 2, 2),
                 init_cfg=None):
        super().__init__(init_cfg)
        if len(channels) != 5 or len(num_blocks) != 4:
            raise ValueError(
                f'DNANetEncoder takes 5 channels and 4 num_blocks, got '
                f'channels={tuple(channels)}, num_blocks={tuple(num_blocks)}')
        self.channels = list(channels)
        self.stride = 2**(len(self.channels) - 1)
        widths = [in_channels] + self.channels
        blocks = [1] + list(num_blocks)
        self.stages = nn.ModuleList(
            residual_cbam_stage(widths[i], widths[i + 1], blocks[i])
            for i in range(len(self.channels)))
        self.pool = nn.MaxPool2d(2)

    def init_weights(self):
        xavier_normal_conv_weights(self)

    def forward(self, x):
        height, width = x.shape[-2:]
        if height % self.stride or width % self.stride:
            raise ValueError(
                f'{type(self).__name__} needs input sides that are multiples '
                f'of {self.stride}, got {height}x{width}; pad the input '
                '(data_preprocessor.size_divisor).')
        feats = []
        for index, stage in enumerate(self.stages):
            x = stage(x if index == 0 else self.pool(x))
            feats.append(x)
        return tuple(feats)
