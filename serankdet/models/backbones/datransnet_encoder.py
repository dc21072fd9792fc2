"""Residual U-Net encoder of DATransNet."""
from typing import Sequence

import torch.nn as nn
from mmengine.model import BaseModule
from torch import Tensor

from serankdet.registry import MODELS


class ResBlock(nn.Module):
    """``act(BN(conv3x3(act(BN(conv3x3(x))))) + shortcut(x))``.

    ``act`` is LeakyReLU(0.01); the shortcut is conv1x1-BN when the width
    changes, identity otherwise. Every conv has a bias. Plain torch layers
    (not mmcv's ConvModule, whose ``init_weights`` re-initialises convs with
    Kaiming-normal and which warns about a bias before BN) keep the
    reference's layers and PyTorch default initialisation.

    Shapes: (B, in_channels, H, W) -> (B, out_channels, H, W).
    """

    def __init__(self, in_channels: int, out_channels: int):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, padding=1)
        self.bn2 = nn.BatchNorm2d(out_channels)
        self.act = nn.LeakyReLU(0.01, inplace=True)
        self.shortcut = (nn.Sequential(
            nn.Conv2d(in_channels, out_channels, 1),
            nn.BatchNorm2d(out_channels))
                         if in_channels != out_channels else nn.Identity())

    def forward(self, x: Tensor) -> Tensor:
        out = self.bn2(self.conv2(self.act(self.bn1(self.conv1(x)))))
        return self.act(out + self.shortcut(x))


@MODELS.register_module()
class DATransNetEncoder(BaseModule):
    """Five-stage residual encoder of DATransNet, features finest first.

    Stage 0 is a :class:`ResBlock` on the input; stage i > 0 is 2x2 max
    pooling followed by a :class:`ResBlock`. The reference builds a sixth
    stage (``encoder5``) that its forward never uses; it is not built here.

    Input (B, in_channels, H, W), H and W multiples of 2**(stages - 1).
    Output: tuple of (B, channels[i], H / 2**i, W / 2**i).

    Args:
        in_channels (int): input channels (1: gray / 255 in the reference).
        channels (Sequence[int]): width of every stage (reference: base
            width 16, (16, 32, 64, 128, 128)).
    """

    def __init__(self,
                 in_channels: int = 1,
                 channels: Sequence[int] = (16, 32, 64, 128, 128),
                 init_cfg=None):
        super().__init__(init_cfg)
        self.channels = list(channels)
        self.stride = 2**(len(self.channels) - 1)
        widths = [in_channels] + self.channels
        self.stages = nn.ModuleList(
            ResBlock(widths[i], widths[i + 1])
            for i in range(len(self.channels)))
        self.pool = nn.MaxPool2d(2)

    def forward(self, x: Tensor):
        height, width = x.shape[-2:]
        if height % self.stride or width % self.stride:
            raise ValueError(
                f'{type(self).__name__} needs input sides that are multiples '
                f'of {self.stride}, got {height}x{width}; pad the input '
                '(data_preprocessor.size_divisor; DATransNet needs 32).')
        feats = []
        for index, stage in enumerate(self.stages):
            x = stage(x if index == 0 else self.pool(x))
            feats.append(x)
        return tuple(feats)
