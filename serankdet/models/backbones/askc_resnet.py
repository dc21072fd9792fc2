"""The residual encoder of ACM and ALCNet (BasicIRSTD's ASKCResUNet and
ASKCResNetFPN)."""
from typing import List, Sequence, Tuple

import torch.nn as nn
from mmengine.model import BaseModule
from torch import Tensor

from serankdet.registry import MODELS
from ..layers.basic_res_layer import basic_res_layer


@MODELS.register_module()
class ASKCResNet(BaseModule):
    """Stem and residual stages of ACM and ALCNet, features finest first.

    Stem: ``BN(x)`` (a learnt input normalisation), conv3x3 stride 2 to
    ``stem_channels``, BN-ReLU, conv3x3, BN-ReLU, conv3x3 to
    ``2 * stem_channels``, BN-ReLU, max pool 3x3 stride 2: 1/4 resolution.
    Stage i: :func:`basic_res_layer` with ``num_blocks[i]`` blocks to
    ``channels[i]``, stride 1 for the first stage and 2 after.

    ACM (``model_ACM.py``): ``num_blocks=(3, 3, 3)``; ALCNet
    (``model_ALCnet.py``): ``(4, 4, 4)``; both ``stem_channels=8``,
    ``channels=(16, 32, 64)``.

    Input (B, in_channels, H, W); output ``(c_0, ..., c_n)`` with c_i
    (B, channels[i], H / 2**(i + 2), W / 2**(i + 2)) for sides that are
    multiples of ``2**(n + 2)``.

    Args:
        in_channels (int): input channels.
        stem_channels (int): width of the first two stem convs.
        channels (Sequence[int]): width of every stage.
        num_blocks (Sequence[int]): basic blocks of every stage.
        bn_momentum (float): PyTorch momentum of the stem and shortcut BNs
            (the reference's 0.9, see :class:`AsymBiChaFuse`).
    """

    def __init__(self,
                 in_channels: int = 1,
                 stem_channels: int = 8,
                 channels: Sequence[int] = (16, 32, 64),
                 num_blocks: Sequence[int] = (3, 3, 3),
                 bn_momentum: float = 0.9,
                 init_cfg=None):
        super().__init__(init_cfg)
        if len(channels) != len(num_blocks):
            raise ValueError(
                f'{type(self).__name__}: channels {tuple(channels)} and '
                f'num_blocks {tuple(num_blocks)} need one entry per stage')
        self.channels = list(channels)
        widths = [stem_channels, stem_channels, 2 * stem_channels]
        stem: List[nn.Module] = [nn.BatchNorm2d(in_channels,
                                                momentum=bn_momentum)]
        for index, (c_in, c_out) in enumerate(zip([in_channels] + widths,
                                                  widths)):
            stem += [
                nn.Conv2d(c_in, c_out, 3, stride=2 if index == 0 else 1,
                          padding=1, bias=False),
                nn.BatchNorm2d(c_out, momentum=bn_momentum),
                nn.ReLU(inplace=True)
            ]
        stem.append(nn.MaxPool2d(3, stride=2, padding=1))
        self.stem = nn.Sequential(*stem)
        stage_inputs = [widths[-1]] + self.channels[:-1]
        self.stages = nn.ModuleList(
            basic_res_layer(stage_inputs[i], self.channels[i], num_blocks[i],
                            1 if i == 0 else 2, bn_momentum)
            for i in range(len(self.channels)))

    def forward(self, x: Tensor) -> Tuple[Tensor, ...]:
        feats = []
        x = self.stem(x)
        for stage in self.stages:
            x = stage(x)
            feats.append(x)
        return tuple(feats)
