"""Interactive-cross attention (IC-A) of UIU-Net's decoder."""
import torch
import torch.nn as nn
from torch import Tensor

from .asym_bi_cha_fuse import channel_gate
from .cbam import SpatialAttention
from .conv_bn_relu import conv_bn_relu


class InteractiveCrossAttention(nn.Module):
    """Fuse a high-level (decoder) and a low-level (encoder skip) feature.

    With ``h = ReLU(BN(conv1x1(x_high)))``:

    * top-down channel weights ``w_c = sigmoid(BN(conv1x1(ReLU(BN(conv1x1(
      avgpool(h)))))))`` (B, C, 1, 1), bottleneck C / ``reduction``
      (:func:`channel_gate`, ACM's top-down gate with PyTorch's BN
      momentum);
    * bottom-up spatial weights ``w_s = SpatialAttention3x3(ReLU(BN(conv1x1(
      x_low * w_c))))`` (B, 1, H, W), i.e. sigmoid of a 3x3 conv on the
      channel mean and max of the bottleneck feature;
    * output ``cat([post(2 x_low w_c), post(2 h w_s)])`` with ``post`` one
      3x3 conv-BN-ReLU shared by both branches (UIU-Net's
      ``AsymBiChaFuseReduce``; in training its BatchNorm statistics are
      therefore updated twice per forward).

    Shapes: x_high (B, high_channels, H, W), x_low (B, channels, H, W) ->
    (B, 2 * channels, H, W).

    Args:
        high_channels (int): channels of the high-level input.
        channels (int): channels of the low-level input and of each branch.
        reduction (int): bottleneck ratio of both attentions.
    """

    def __init__(self, high_channels: int, channels: int,
                 reduction: int = 4):
        super().__init__()
        bottleneck = channels // reduction
        self.high_proj = nn.Sequential(
            nn.Conv2d(high_channels, channels, 1),
            nn.BatchNorm2d(channels),
            nn.ReLU(inplace=True))
        self.channel_gate = channel_gate(channels, bottleneck)
        self.spatial_gate = nn.Sequential(
            nn.Conv2d(channels, bottleneck, 1),
            nn.BatchNorm2d(bottleneck),
            nn.ReLU(inplace=True),
            SpatialAttention(kernel_size=3))
        self.post = conv_bn_relu(channels, channels)

    def forward(self, x_high: Tensor, x_low: Tensor) -> Tensor:
        high = self.high_proj(x_high)
        channel_weights = self.channel_gate(high)
        spatial_weights = self.spatial_gate(x_low * channel_weights)
        return torch.cat([self.post(2 * x_low * channel_weights),
                          self.post(2 * high * spatial_weights)], dim=1)
