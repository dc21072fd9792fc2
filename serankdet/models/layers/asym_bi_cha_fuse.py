"""Asymmetric bi-directional channel fusion, ACM's cross-layer modulation."""
import torch.nn as nn
from torch import Tensor

from .conv_bn_relu import conv_bn_relu


def channel_gate(channels: int, hidden: int, momentum: float = 0.1,
                 global_context: bool = True) -> nn.Sequential:
    """``sigmoid(BN(conv1x1(ReLU(BN(conv1x1(x))))))`` through ``hidden``
    channels, BNs with PyTorch ``momentum``; with ``global_context`` the
    input is average-pooled to 1x1 first (index 0), as ACM's ``topdown``
    sequence and UIU-Net's IC-A top-down gate.

    Shapes: (B, channels, H, W) -> (B, channels, 1, 1) with
    ``global_context``, else (B, channels, H, W).
    """
    pool = [nn.AdaptiveAvgPool2d(1)] if global_context else []
    return nn.Sequential(
        *pool,
        nn.Conv2d(channels, hidden, 1),
        nn.BatchNorm2d(hidden, momentum=momentum),
        nn.ReLU(inplace=True),
        nn.Conv2d(hidden, channels, 1),
        nn.BatchNorm2d(channels, momentum=momentum),
        nn.Sigmoid())


class AsymBiChaFuse(nn.Module):
    """Fuse a deep feature ``high`` into a shallow one ``low`` of the same
    shape, each modulated by attention computed from the other (Dai et al.,
    ACM, WACV 2021):

    * top-down: global channel attention of ``high`` (average pool, then a
      1x1 bottleneck with BN, ReLU, BN, sigmoid), (B, C, 1, 1);
    * bottom-up: point-wise channel attention of ``low`` (the same
      bottleneck without the pooling), (B, C, H, W);
    * ``out = ReLU(BN(conv3x3(2 * low * top_down + 2 * high * bottom_up)))``.

    Shared by ACM and ALCNet as BasicIRSTD builds them
    (``model/ACM/fusion.py``).

    Args:
        channels (int): C, the channels of both inputs and of the output.
        reduction (int): bottleneck ratio, ``hidden = C // reduction``.
        bn_momentum (float): PyTorch momentum of every BatchNorm; the
            reference's 0.9 (MXNet's value, which PyTorch reads the other
            way round: running stats follow the last batch closely).

    Shapes: high (B, C, H, W), low (B, C, H, W) -> (B, C, H, W).
    """

    def __init__(self, channels: int, reduction: int = 4,
                 bn_momentum: float = 0.9):
        super().__init__()
        hidden = channels // reduction
        self.top_down = channel_gate(channels, hidden, bn_momentum)
        self.bottom_up = channel_gate(channels, hidden, bn_momentum,
                                      global_context=False)
        self.post = conv_bn_relu(channels, channels)
        self.post[1].momentum = bn_momentum

    def forward(self, high: Tensor, low: Tensor) -> Tensor:
        top_down = self.top_down(high)
        bottom_up = self.bottom_up(low)
        return self.post(2 * low * top_down + 2 * high * bottom_up)
