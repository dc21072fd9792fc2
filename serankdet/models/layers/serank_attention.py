"""SeRank: selective rank-aware channel attention of SeRankDet."""
import math

import torch
import torch.nn as nn
from mmengine.model import BaseModule
from torch import Tensor

from serankdet.registry import MODELS


def sinusoid_table(length: int, dim: int) -> Tensor:
    """Transformer sinusoid table (length, dim), float32.

    ``T[p, 2j] = sin(p * exp(-2j ln(1e4) / dim))``, ``T[p, 2j+1] = cos(...)``.
    """
    if dim % 2:
        raise ValueError(f'the sinusoid table needs an even dim, got {dim}')
    position = torch.arange(length, dtype=torch.float32).unsqueeze(1)
    freq = torch.exp(torch.arange(0, dim, 2, dtype=torch.float32) *
                     (-math.log(10000.0) / dim))
    table = torch.zeros(length, dim)
    table[:, 0::2] = torch.sin(position * freq)
    table[:, 1::2] = torch.cos(position * freq)
    return table


@MODELS.register_module()
class SeRankAttention(BaseModule):
    """Channel attention computed from each channel's K strongest pixels.

    For x (B, C, H, W):

    1. per (sample, channel), take the ``topk`` largest of the H*W values and
       order them by position (raster order), giving s (B, C, K);
    2. add one scalar position code per selected pixel at flat index n:
       ``pos_table[n // W, n % W]``, a frozen (K, K) sinusoid table (the row
       is the pixel row, the column the pixel column);
    3. A = query(s) @ key(s)^T, (B, C, C), with two bias-free
       ``Linear(K, 2K)``;
    4. standardise A: ``(A - mean) / (std + eps)`` with the unbiased std,
       over the whole batch tensor (``per_sample_norm=False``, the reference;
       a sample's output then depends on the other samples of the batch) or
       over each sample's (C, C) map (``per_sample_norm=True``);
    5. output = softmax(A, -1) @ x.view(B, C, H*W), reshaped, plus x.

    Output (B, C, H, W). Needs H*W >= K, H <= K and W <= K (table size).

    Args:
        channels (int): C (only checked against the input).
        topk (int): K, even. SeRankDet uses K = 32768 / C.
        per_sample_norm (bool): standardise per sample (batch-independent
            outputs) instead of over the whole batch.
        eps (float): added to the std.
    """

    def __init__(self, channels: int, topk: int,
                 per_sample_norm: bool = False, eps: float = 1e-5,
                 init_cfg=None):
        super().__init__(init_cfg)
        self.channels = channels
        self.topk = topk
        self.per_sample_norm = per_sample_norm
        self.eps = eps
        self.query = nn.Linear(topk, 2 * topk, bias=False)
        self.key = nn.Linear(topk, 2 * topk, bias=False)
        # A frozen Parameter (not a buffer) so that parameter counts and
        # checkpoints match the reference, which stores it this way.
        self.pos_table = nn.Parameter(sinusoid_table(topk, topk),
                                      requires_grad=False)

    def check_input(self, height: int, width: int) -> None:
        """Raise ValueError if (height, width) cannot be ranked."""
        k = self.topk
        if height * width < k or height > k or width > k:
            raise ValueError(
                f'SeRankAttention(C={self.channels}, K={k}) got a '
                f'{height}x{width} feature map; it needs H*W >= {k} (Top-K) '
                f'and H, W <= {k} (position table). Pad a smaller input; run '
                'a larger one in sliding windows (model.test_cfg '
                "mode='slide').")

    def select(self, x: Tensor) -> Tensor:
        """Steps 1-2: position-coded Top-K values (B, C, K)."""
        width = x.shape[-1]
        flat = x.flatten(2)
        # topk keeps the reference's selection (tie order included); sorting
        # the indices puts the K values in raster order.
        index = flat.topk(self.topk, dim=2).indices.sort(dim=2).values
        values = flat.gather(2, index)
        return values + self.pos_table[index // width, index % width]

    def forward(self, x: Tensor) -> Tensor:
        batch, channels, height, width = x.shape
        if channels != self.channels:
            raise ValueError(f'SeRankAttention expects {self.channels} '
                             f'channels, got {channels}')
        self.check_input(height, width)
        selected = self.select(x)
        logits = self.query(selected) @ self.key(selected).transpose(1, 2)
        if self.per_sample_norm:
            mean = logits.mean(dim=(1, 2), keepdim=True)
            std = logits.flatten(1).std(dim=1).view(batch, 1, 1)
        else:
            mean, std = logits.mean(), logits.std()
        attention = ((logits - mean) / (std + self.eps)).softmax(dim=-1)
        out = attention @ x.flatten(2)
        return out.view(batch, channels, height, width) + x

    def extra_repr(self) -> str:
        return (f'channels={self.channels}, topk={self.topk}, '
                f'per_sample_norm={self.per_sample_norm}')
