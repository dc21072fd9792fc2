"""SeRankDet encoder: DDC blocks, each followed by SeRank attention."""
from typing import List, Tuple

import torch.nn as nn
from mmengine.model import BaseModule
from torch import Tensor

from serankdet.registry import MODELS
from ..layers import DDCBlock, SeRankAttention


@MODELS.register_module()
class SeRankDetEncoder(BaseModule):
    """U-Net encoder of SeRankDet (Dai et al., TGRS 2024).

    Stage i (0-based) has ``C_i = base_channels * 2**i`` channels:
    ``e_i = SeRank_i(DDC_i(x if i == 0 else maxpool2(e_{i-1})))``.
    Input (B, in_channels, H, W) -> tuple of e_i (B, C_i, H/2**i, W/2**i),
    finest first.

    SeRank's Top-K size is tied to the channel count as in the reference:
    ``K_i = topk_budget / C_i`` (32768 / 64 = 512 at stage 0 down to 32 at
    stage 4 for the paper width). With a reduced ``base_channels`` and the
    default budget, K grows (base 8: K = 4096 ... 256) and so do the
    ``Linear(K, 2K)`` layers and the (K, K) position tables; to keep the
    reference K per stage scale the budget with the width
    (``topk_budget = 512 * base_channels``).

    Valid inputs: H, W multiples of ``2**(num_stages-1)``; at every stage
    ``H_i, W_i <= K_i`` (position table; H, W <= 512 for the paper model)
    and ``H_i * W_i >= K_i`` (Top-K; at least 96x96 for the paper model).

    Args:
        in_channels (int): input channels (3 in the reference, which feeds
            gray frames copied to RGB; 1 for a single-channel variant).
        base_channels (int): C_0.
        num_stages (int): number of stages.
        topk_budget (int): K_i * C_i, divisible by every C_i.
        per_sample_norm (bool): see :class:`SeRankAttention`; False is the
            reference's batch-wide standardisation.
        tie_break (str): see :class:`SeRankAttention`; ``'topk'`` is the
            reference's, ``'lowest_index'`` equals an exported graph.
        dilations (tuple): dilations of the DDC dilated branch.
        theta (float): difference weight of the DDC difference conv.
    """

    def __init__(self,
                 in_channels: int = 3,
                 base_channels: int = 64,
                 num_stages: int = 5,
                 topk_budget: int = 32768,
                 per_sample_norm: bool = False,
                 tie_break: str = 'topk',
                 dilations: Tuple[int, int, int] = (2, 4, 2),
                 theta: float = 0.7,
                 init_cfg=None):
        super().__init__(init_cfg)
        self.channels = [base_channels * 2**i for i in range(num_stages)]
        bad = [c for c in self.channels
               if topk_budget % c or (topk_budget // c) % 2]
        if bad:
            raise ValueError(
                f'topk_budget={topk_budget} must give an even K = budget / C '
                f'for every stage width {self.channels}; it does not for '
                f'{bad}. Use a multiple of 2 * {self.channels[-1]}.')
        self.topks = [topk_budget // c for c in self.channels]
        self.stride = 2**(num_stages - 1)
        # largest input side every position table can index; larger frames
        # run in sliding windows (IRSTDSegmentor.max_input_side)
        self.max_input_side = min(k << i for i, k in enumerate(self.topks))
        # smallest square input with enough pixels for every Top-K; smaller
        # frames are zero-padded up to it (IRSTDSegmentor.min_input_side)
        self.min_input_side = self.stride
        while any((self.min_input_side >> i)**2 < k
                  for i, k in enumerate(self.topks)):
            self.min_input_side += self.stride
        widths = [in_channels] + self.channels
        self.stages = nn.ModuleList(
            DDCBlock(widths[i], widths[i + 1], dilations, theta)
            for i in range(num_stages))
        self.attentions = nn.ModuleList(
            SeRankAttention(c, k, per_sample_norm, tie_break=tie_break)
            for c, k in zip(self.channels, self.topks))
        self.pool = nn.MaxPool2d(2)

    def check_input(self, height: int, width: int) -> None:
        """Raise ValueError naming the limits if H x W is not supported."""
        if height % self.stride or width % self.stride:
            raise ValueError(
                f'SeRankDetEncoder needs input sides that are multiples of '
                f'{self.stride}, got {height}x{width}; pad the input '
                f'(data_preprocessor.size_divisor={self.stride}).')
        for i, k in enumerate(self.topks):
            h, w = height >> i, width >> i
            if h > k or w > k or h * w < k:
                raise ValueError(
                    f'SeRankDetEncoder cannot take a {height}x{width} input: '
                    f'stage {i} ({h}x{w}, K={k}) needs sides <= {k} '
                    f'(position table) and at least {k} pixels (Top-K); '
                    f'input sides must be <= {self.max_input_side}. Run it '
                    f'in sliding windows: tools/infer.py --tile '
                    f'{self.max_input_side} {self.max_input_side}, or '
                    f"model.test_cfg=dict(mode='slide', crop_size="
                    f'({self.max_input_side}, {self.max_input_side}), '
                    f'stride=(...)); whole-mode inference does this by '
                    f'itself, and pads frames with a side below '
                    f'{self.min_input_side}.')

    def forward(self, x: Tensor) -> Tuple[Tensor, ...]:
        self.check_input(*x.shape[-2:])
        feats: List[Tensor] = []
        for i, (stage, attention) in enumerate(zip(self.stages,
                                                   self.attentions)):
            x = attention(stage(x if i == 0 else self.pool(x)))
            feats.append(x)
        return tuple(feats)
