"""A stage of ResNet basic blocks, as torchvision's ``_make_layer`` builds
it (ACM and ALCNet)."""
import torch.nn as nn
from mmseg.models.backbones.resnet import BasicBlock


def basic_res_layer(in_channels: int, out_channels: int, num_blocks: int,
                    stride: int = 1,
                    shortcut_momentum: float = 0.1) -> nn.Sequential:
    """``num_blocks`` ResNet basic blocks (torchvision layout, mmseg's
    :class:`BasicBlock`), the first with ``stride``.

    The first block's shortcut is conv1x1 (no bias, ``stride``) + BN with
    ``shortcut_momentum`` when the stride or the width changes; the blocks'
    own BNs keep PyTorch's momentum 0.1 (ACM and ALCNet pass their 0.9 to
    the shortcut BN only).

    Shapes: (B, in_channels, H, W) -> (B, out_channels, H / stride,
    W / stride).
    """
    shortcut = None
    if stride != 1 or in_channels != out_channels:
        shortcut = nn.Sequential(
            nn.Conv2d(in_channels, out_channels, 1, stride, bias=False),
            nn.BatchNorm2d(out_channels, momentum=shortcut_momentum))
    blocks = [BasicBlock(in_channels, out_channels, stride,
                         downsample=shortcut)]
    blocks += [BasicBlock(out_channels, out_channels)
               for _ in range(num_blocks - 1)]
    return nn.Sequential(*blocks)
