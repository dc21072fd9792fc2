"""Central difference convolution (the "difference" branch of SeRankDet)."""
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor

from serankdet.registry import MODELS


@MODELS.register_module()
class CentralDifferenceConv2d(nn.Conv2d):
    """``conv(x; W, b) - theta * conv1x1(x; sum_{kh,kw} W, b)``.

    The 1x1 difference term reuses the bias ``b`` (as SeRankDet's reference
    does), so the effective bias is ``(1 - theta) * b``. For a "same" padded
    odd kernel the 1x1 term samples the pixel under the kernel centre, so the
    whole operation is one convolution whose centre tap is
    ``W_c - theta * sum(W)``; that is how it is computed (one conv instead of
    two). Input (B, in, H, W) -> (B, out, H', W') as ``nn.Conv2d``.

    Args:
        theta (float): weight of the difference term (0 gives a plain conv).
        Other arguments as :class:`torch.nn.Conv2d`; padding must be
        ``dilation * (kernel_size // 2)`` and the kernel odd.
    """

    def __init__(self, *args, theta: float = 0.7, **kwargs):
        super().__init__(*args, **kwargs)
        kh, kw = self.kernel_size
        same = tuple(d * (k // 2) for d, k in zip(self.dilation,
                                                    self.kernel_size))
        if kh % 2 == 0 or kw % 2 == 0 or self.padding != same:
            raise ValueError(
                f'{type(self).__name__} needs an odd kernel with "same" '
                f'padding (dilation * (kernel_size // 2) = {same}), got '
                f'kernel_size={self.kernel_size}, padding={self.padding}')
        if self.padding_mode != 'zeros':
            raise ValueError(f'{type(self).__name__} supports only '
                             f"padding_mode='zeros'")
        self.theta = float(theta)

    def forward(self, x: Tensor) -> Tensor:
        kh, kw = self.kernel_size
        weight = self.weight
        if self.theta:
            centre = weight.new_zeros(weight.shape)
            centre[:, :, kh // 2, kw // 2] = weight.sum(dim=(2, 3))
            weight = weight - self.theta * centre
        bias = None if self.bias is None else (1 - self.theta) * self.bias
        return F.conv2d(x, weight, bias, self.stride, self.padding,
                        self.dilation, self.groups)

    def extra_repr(self) -> str:
        return f'{super().extra_repr()}, theta={self.theta}'
