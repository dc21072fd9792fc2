"""Residual U-block (RSU) of U^2-Net, the nested U-Net of UIU-Net."""
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor

from .conv_bn_relu import conv_bn_relu


class RSUBlock(nn.Module):
    """A small U-Net with a residual: ``U(conv_in(x)) + conv_in(x)``.

    ``conv_in`` maps the input to ``out_channels``. The inner U-Net of
    ``depth`` L has L - 1 encoder convs, a bottom conv and L - 1 decoder
    convs (all 3x3 conv-BN-ReLU):

    * plain (RSU-L): encoder convs at 1/1, 1/2, ..., 1/2**(L-2) of the input
      size (2x2 max pooling with ``ceil_mode`` before each but the first),
      the bottom conv dilated by 2 at the coarsest size; each decoder conv
      takes ``cat([up(d), e])``, with ``up`` bilinear (align_corners=False)
      to the size of the encoder feature e where the sizes differ;
    * ``dilated`` (RSU-4F): no pooling; encoder conv i is dilated by 2**i,
      the bottom conv by 2**(L-1), decoder conv i by 2**i.

    The encoder convs and the bottom conv have ``mid_channels``; the decoder
    convs too, except the finest, which returns ``out_channels``.

    Shapes: (B, in_channels, H, W) -> (B, out_channels, H, W); any H, W.

    Args:
        in_channels (int): input channels.
        mid_channels (int): width of the inner U-Net.
        out_channels (int): output channels.
        depth (int): L >= 2, the L of U^2-Net's RSU-7 ... RSU-4 and RSU-4F
            (L - 1 encoder levels plus the bottom conv).
        dilated (bool): RSU-4F: dilations in place of pooling.
    """

    def __init__(self, in_channels: int, mid_channels: int, out_channels: int,
                 depth: int, dilated: bool = False):
        super().__init__()
        if depth < 2:
            raise ValueError(f'RSUBlock depth must be at least 2, got {depth}')
        self.dilated = dilated
        levels = depth - 1

        def dilation(level: int) -> int:
            return 2**level if dilated else 1

        self.conv_in = conv_bn_relu(in_channels, out_channels)
        self.encoder_convs = nn.ModuleList(
            conv_bn_relu(out_channels if level == 0 else mid_channels,
                         mid_channels, dilation(level))
            for level in range(levels))
        self.bottom_conv = conv_bn_relu(
            mid_channels, mid_channels, 2**levels if dilated else 2)
        self.decoder_convs = nn.ModuleList(
            conv_bn_relu(2 * mid_channels,
                         out_channels if level == 0 else mid_channels,
                         dilation(level))
            for level in range(levels))

    def forward(self, x: Tensor) -> Tensor:
        residual = self.conv_in(x)
        skips = []
        out = residual
        for level, conv in enumerate(self.encoder_convs):
            if level > 0 and not self.dilated:
                out = F.max_pool2d(out, 2, stride=2, ceil_mode=True)
            out = conv(out)
            skips.append(out)
        out = self.bottom_conv(out)
        for conv, skip in zip(reversed(self.decoder_convs), reversed(skips)):
            if out.shape[-2:] != skip.shape[-2:]:
                out = F.interpolate(out, skip.shape[-2:], mode='bilinear',
                                    align_corners=False)
            out = conv(torch.cat([out, skip], dim=1))
        return out + residual
