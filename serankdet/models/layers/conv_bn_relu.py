"""Conv-BN-ReLU unit shared by the models' blocks, and stacks of it."""
import torch.nn as nn


def conv_bn_relu(in_channels: int, out_channels: int, dilation: int = 1,
                 conv_type: type = nn.Conv2d, **conv_kwargs) -> nn.Sequential:
    """3x3 conv (bias, "same" padding) -> BN -> ReLU as
    ``Sequential(0, 1, 2)``.

    Plain torch layers (not mmcv ``ConvModule``) on purpose: they keep
    PyTorch's default initialisation, which the reference trains from, and
    ``ConvModule`` would re-initialise convs with Kaiming and zero biases.
    """
    return nn.Sequential(
        conv_type(in_channels, out_channels, 3, padding=dilation,
                  dilation=dilation, bias=True, **conv_kwargs),
        nn.BatchNorm2d(out_channels),
        nn.ReLU(inplace=True))


def conv_bn_relu_stack(in_channels: int, out_channels: int,
                       num_convs: int) -> nn.Sequential:
    """``num_convs`` :func:`conv_bn_relu` layers, the first changing the
    width: the ``nConvs`` of DATransNet, SCTransNet and SAM-SPL (UCTransNet's
    ``_make_nConv``), ``Sequential(i)`` being layer i.

    Shapes: (B, in_channels, H, W) -> (B, out_channels, H, W).
    """
    widths = [in_channels] + [out_channels] * num_convs
    return nn.Sequential(*(conv_bn_relu(widths[i], widths[i + 1])
                           for i in range(num_convs)))
