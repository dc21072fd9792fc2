"""GFEM: the global feature extraction bottleneck of DATransNet."""
from typing import Optional

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.model import BaseModule
from torch import Tensor

from serankdet.registry import MODELS


@MODELS.register_module()
class SubsampledNonLocal2d(BaseModule):
    """Embedded-Gaussian non-local block returning only the non-local term.

    ``theta = conv1x1(x)`` (B, c, H, W); ``phi`` and ``g`` are 1x1 convs
    followed by 2x2 max pooling (B, c, H/2, W/2). With N = H*W:
    ``y = softmax(theta^T phi) g^T`` (B, N, c), reshaped to (B, c, H, W),
    and the output is ``out_proj(y) = BN(conv1x1(y))`` (B, C, H, W), with the
    BN zero-initialised so the block outputs 0 at initialisation.

    Unlike mmcv's ``NonLocal2d`` there is no residual ``x +`` (the reference
    comments it out) and the output conv has a bias, so mmcv's block cannot
    reproduce it.

    Args:
        in_channels (int): C.
        inter_channels (int): c, the embedding width.
    """

    def __init__(self, in_channels: int, inter_channels: int, init_cfg=None):
        super().__init__(init_cfg)
        self.theta = nn.Conv2d(in_channels, inter_channels, 1)
        self.phi = nn.Conv2d(in_channels, inter_channels, 1)
        self.g = nn.Conv2d(in_channels, inter_channels, 1)
        self.out_proj = nn.Sequential(
            nn.Conv2d(inter_channels, in_channels, 1),
            nn.BatchNorm2d(in_channels))
        nn.init.zeros_(self.out_proj[1].weight)
        nn.init.zeros_(self.out_proj[1].bias)

    def forward(self, x: Tensor) -> Tensor:
        batch, _, height, width = x.shape
        theta = self.theta(x).flatten(2).transpose(1, 2)  # (B, N, c)
        phi = F.max_pool2d(self.phi(x), 2).flatten(2)  # (B, c, N/4)
        g = F.max_pool2d(self.g(x), 2).flatten(2).transpose(1, 2)
        y = torch.matmul(torch.matmul(theta, phi).softmax(dim=-1), g)
        return self.out_proj(
            y.transpose(1, 2).reshape(batch, -1, height, width))


@MODELS.register_module()
class GFEM(BaseModule):
    """Global feature extraction module (DATransNet's bottleneck).

    With ``s = NonLocal(x)`` and a channel gate ``a = sigmoid(conv1x1(
    avgpool(s)))`` (one bias-free FC, no reduction: the reference's "ECA"
    ChannelAttention), the global branch gates the 2x2 max-pooled input and
    is upsampled back: ``t = up2(maxpool(x) * a)``. The output is
    ``fuse_conv(local_conv(s) + global_conv(t))`` with 1x1 ``local_conv`` and
    3x3 ``global_conv`` / ``fuse_conv``; no normalisation or activation.

    The code is followed, not the paper's figure (which draws an extra
    conv-sigmoid gate and an SE block).

    Args:
        channels (int): C, input and output channels.
        inter_channels (int, optional): non-local embedding width
            (default C // 8).

    Shapes: (B, C, H, W) -> (B, C, H, W), with H and W even.
    """

    def __init__(self, channels: int, inter_channels: Optional[int] = None,
                 init_cfg=None):
        super().__init__(init_cfg)
        self.non_local = SubsampledNonLocal2d(channels, inter_channels
                                              or channels // 8)
        self.channel_gate = nn.Conv2d(channels, channels, 1, bias=False)
        self.local_conv = nn.Conv2d(channels, channels, 1)
        self.global_conv = nn.Conv2d(channels, channels, 3, padding=1)
        self.fuse_conv = nn.Conv2d(channels, channels, 3, padding=1)

    def forward(self, x: Tensor) -> Tensor:
        spatial = self.non_local(x)
        gate = self.channel_gate(F.adaptive_avg_pool2d(spatial, 1)).sigmoid()
        pooled = F.interpolate(F.max_pool2d(x, 2) * gate, scale_factor=2,
                               mode='bilinear', align_corners=False)
        return self.fuse_conv(
            self.local_conv(spatial) + self.global_conv(pooled))
