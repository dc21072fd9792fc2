"""DNANet's encoder (Li et al., TIP 2023): a column of Res-CBAM stages."""
from typing import Sequence

import torch.nn as nn

from serankdet.registry import MODELS
from ..layers.residual_block import residual_cbam_stage
from .unet_encoder import PooledStagesEncoder


def xavier_normal_conv_weights(module: nn.Module) -> None:
    """DNANet's initialisation: Xavier-normal weights of every ``Conv2d``;
    biases and BatchNorm keep PyTorch's defaults."""
    for layer in module.modules():
        if isinstance(layer, nn.Conv2d):
            nn.init.xavier_normal_(layer.weight)


def check_dnanet_widths(owner: str, channels: Sequence[int],
                        num_blocks: Sequence[int]) -> None:
    """Raise ValueError naming ``owner`` unless there are the 5 level widths
    and the 4 block counts of levels 1 to 4 that DNANet's nested nodes
    need."""
    if len(channels) != 5 or len(num_blocks) != 4:
        raise ValueError(
            f'{owner} takes 5 channels and 4 num_blocks, got '
            f'channels={tuple(channels)}, num_blocks={tuple(num_blocks)}')


@MODELS.register_module()
class DNANetEncoder(PooledStagesEncoder):
    """The downsampling column of DNANet (``conv{i}_0`` of the reference).

    Stage 0 is one Res-CBAM block on the input; stage i > 0 is 2x2 max
    pooling (:class:`PooledStagesEncoder`) followed by ``num_blocks[i - 1]``
    Res-CBAM blocks (:func:`residual_cbam_stage`: :class:`ResidualBlock`
    with ReLU and a CBAM gate of channel reduction 16, the same blocks as
    MSHNet's).
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
        check_dnanet_widths(type(self).__name__, channels, num_blocks)
        widths = [in_channels] + list(channels)
        blocks = [1] + list(num_blocks)
        super().__init__(
            channels,
            (residual_cbam_stage(widths[i], widths[i + 1], blocks[i])
             for i in range(len(channels))),
            init_cfg=init_cfg)

    def init_weights(self):
        xavier_normal_conv_weights(self)
