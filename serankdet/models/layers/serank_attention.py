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

    Ties at the K-th value (ReLU zeros: 18 % of the channels of a trained
    width-8 model on SIRST) make the selected pixels, which enter through
    the position code, depend on how ties are broken: ``torch.topk`` in its
    own order (the reference), ONNX's TopK lowest index first, so an
    exported graph differs from the reference there.

    Args:
        channels (int): C (only checked against the input).
        topk (int): K, even. SeRankDet uses K = 32768 / C.
        per_sample_norm (bool): standardise per sample (batch-independent
            outputs) instead of over the whole batch.
        eps (float): added to the std.
        tie_break (str): ``'topk'`` (the reference's selection) or
            ``'lowest_index'`` (ONNX's rule: outputs equal an exported
            graph's).
    """

    TIE_BREAKS = ('topk', 'lowest_index')

    def __init__(self, channels: int, topk: int,
                 per_sample_norm: bool = False, eps: float = 1e-5,
                 tie_break: str = 'topk',
                 init_cfg=None):
        super().__init__(init_cfg)
        if tie_break not in self.TIE_BREAKS:
            raise ValueError(f'tie_break must be one of {self.TIE_BREAKS}, '
                             f'got {tie_break!r}')
        self.channels = channels
        self.topk = topk
        self.tie_break = tie_break
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
        if self.tie_break == 'topk' or torch.onnx.is_in_onnx_export():
            # topk keeps the reference's selection (tie order included);
            # exported, it is ONNX's TopK (lowest index first); sorting the
            # indices puts the K values in raster order
            index = flat.topk(self.topk, dim=2).indices.sort(dim=2).values
        else:
            index = self.lowest_index_topk(flat)
        values = flat.gather(2, index)
        return values + self.pos_table[index // width, index % width]

    def lowest_index_topk(self, flat: Tensor) -> Tensor:
        """Indices (B, C, K), in raster order, of the K largest of each row
        of ``flat`` (B, C, N), ties at the K-th value going to the lowest
        indices."""
        kth = flat.topk(self.topk, dim=2).values[..., -1:]
        above = flat > kth
        equal = flat == kth
        needed = self.topk - above.sum(dim=2, keepdim=True)
        keep = above | (equal & (equal.cumsum(dim=2) <= needed))
        # exactly K per row; nonzero lists them row by row in index order
        return keep.nonzero()[:, 2].view(*flat.shape[:2], self.topk)

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
                f'per_sample_norm={self.per_sample_norm}, '
                f'tie_break={self.tie_break}')
