"""DATransNet's output head: Inception depthwise conv, then a 1x1 conv."""
import torch
import torch.nn as nn
from torch import Tensor

from serankdet.registry import MODELS
from .base_irstd_head import BaseIRSTDHead


class InceptionDWConv2d(nn.Module):
    """InceptionNeXt token mixer: parallel depthwise convs on channel groups.

    Channels are split into ``[identity | square | horizontal band |
    vertical band]`` with ``g = int(C * branch_ratio)`` channels in each of
    the last three groups. The groups get a depthwise k x k, 1 x K and K x 1
    conv (with bias) respectively, and are concatenated back in that order.
    No norm, no activation.

    Args:
        channels (int): C.
        square_kernel_size (int): k.
        band_kernel_size (int): K.
        branch_ratio (float): fraction of channels per conv branch.

    Shapes: (B, C, H, W) -> (B, C, H, W).
    """

    def __init__(self, channels: int, square_kernel_size: int = 3,
                 band_kernel_size: int = 11, branch_ratio: float = 0.125):
        super().__init__()
        group = int(channels * branch_ratio)
        self.dwconv_hw = nn.Conv2d(group, group, square_kernel_size,
                                   padding=square_kernel_size // 2,
                                   groups=group)
        self.dwconv_w = nn.Conv2d(group, group, (1, band_kernel_size),
                                  padding=(0, band_kernel_size // 2),
                                  groups=group)
        self.dwconv_h = nn.Conv2d(group, group, (band_kernel_size, 1),
                                  padding=(band_kernel_size // 2, 0),
                                  groups=group)
        self.split_sizes = (channels - 3 * group, group, group, group)

    def forward(self, x: Tensor) -> Tensor:
        identity, square, band_w, band_h = torch.split(x, self.split_sizes,
                                                       dim=1)
        return torch.cat([
            identity,
            self.dwconv_hw(square),
            self.dwconv_w(band_w),
            self.dwconv_h(band_h)
        ], dim=1)


@MODELS.register_module()
class DATransNetHead(BaseIRSTDHead):
    """``conv1x1(InceptionDWConv2d(f_0))``: one logit map, no deep supervision.

    Takes the finest feature f_0 (B, in_channels, H, W) of the neck and
    returns ``[logits (B, 1, H, W)]``. The reference applies a sigmoid
    here; it belongs to the loss and the metric in this toolbox.

    Args:
        in_channels (int): channels of f_0.
        branch_ratio (float): InceptionDWConv2d branch ratio (reference
            0.25: 4 channels per branch at width 16).
        square_kernel_size (int): kernel of the square depthwise branch.
        band_kernel_size (int): length of the band depthwise branches.
    """

    def __init__(self,
                 in_channels: int = 16,
                 branch_ratio: float = 0.25,
                 square_kernel_size: int = 3,
                 band_kernel_size: int = 11,
                 **kwargs):
        super().__init__(**kwargs)
        self.mixer = InceptionDWConv2d(in_channels, square_kernel_size,
                                       band_kernel_size, branch_ratio)
        self.conv_seg = nn.Conv2d(in_channels, 1, 1)

    def forward(self, feats):
        return [self.conv_seg(self.mixer(feats[0]))]
