"""LayerNorm over the channels of an NCHW feature map."""
import torch.nn as nn
from torch import Tensor


class LayerNorm2d(nn.LayerNorm):
    """``nn.LayerNorm(C)`` applied at every pixel of (B, C, H, W): each
    pixel's C values are standardised (biased variance, ``eps``) and scaled
    and shifted per channel. Shapes: (B, C, H, W) -> (B, C, H, W)."""

    def forward(self, x: Tensor) -> Tensor:
        return super().forward(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)
