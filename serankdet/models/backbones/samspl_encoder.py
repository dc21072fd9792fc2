"""SAM-SPL encoder: a CNN task encoder consulting a frozen SAM2 trunk."""
from typing import Tuple

import torch.nn as nn
import torch.nn.functional as F
from mmengine.model import BaseModule
from torch import Tensor

from serankdet.registry import MODELS
from ..layers.residual_block import ResidualBlock
from ..layers.samspl_blocks import (consultation_generator,
                                    samspl_init_weights)


@MODELS.register_module()
class SAMSPLEncoder(BaseModule):
    """Consult-guide knowledge adaptation of SAM-SPL (Fu et al., 2025).

    A Res-CBAM task encoder runs beside a frozen SAM2 Hiera trunk (its first
    S stages, driven block by block):

    * stem: three stages of two Res-CBAM blocks on the input and on
      max-pooled copies -> r0 (C/4, H), r1 (C/2, H/2), r2 (C, H/4), with C the
      trunk's ``embed_dim``;
    * consult: at the end of trunk stage k >= 2 the CNN feature becomes
      ``Res-CBAM(maxpool(c)) + trunk tokens`` (C*2^(k-1), H/2^(k+1));
    * guide: after trunk stage k < S, a consultation generator maps
      ``tokens + c`` to the next stage's size, and the result is added to the
      tokens entering that stage's last block.

    The trunk is frozen and stays in eval mode (see :class:`HieraTrunk`).

    Args:
        trunk (dict): :class:`HieraTrunk` config (with ``pretrained``).
        stem_blocks (int): Res-CBAM blocks per stem stage.

    Forward: (B, 3, H, W), H and W multiples of 32 -> (r0, r1, r2, c_2, ...,
    c_S), finest first; the c_k are CNN + SAM sums.
    """

    def __init__(self, trunk: dict, stem_blocks: int = 2, init_cfg=None):
        super().__init__(init_cfg)
        self.trunk = MODELS.build(dict(type='HieraTrunk', frozen=True,
                                       **trunk))
        width = self.trunk.channels[0]
        stem_channels = [3, width // 4, width // 2, width]
        self.stem = nn.ModuleList(
            nn.Sequential(*[
                ResidualBlock(c_in if i == 0 else c_out, c_out, cbam=True)
                for i in range(stem_blocks)])
            for c_in, c_out in zip(stem_channels, stem_channels[1:]))
        dims = self.trunk.channels
        self.down_blocks = nn.ModuleList(
            ResidualBlock(c_in, c_out, cbam=True) for c_in, c_out in zip(dims, dims[1:]))
        self.consult_generators = nn.ModuleList(
            consultation_generator(c) for c in dims[:-1])
        self.out_channels = stem_channels[1:] + dims[1:]

    def init_weights(self):
        """Reference initialisation, then the SAM2 weights of the trunk."""
        samspl_init_weights(self)
        self.trunk.init_weights()

    def forward(self, x: Tensor) -> Tuple[Tensor, ...]:
        feats = []
        for index, stage in enumerate(self.stem):
            feats.append(stage(x if index == 0 else F.max_pool2d(
                feats[-1], 2)))
        cnn, tokens, guide = feats[-1], self.trunk.embed(x), None
        ends, stage = self.trunk.stage_ends, 0
        for index, block in enumerate(self.trunk.blocks):
            if index in ends[1:]:
                tokens = block(tokens + guide)
                stage += 1
                cnn = self.down_blocks[stage - 1](F.max_pool2d(cnn, 2)) + \
                    tokens.permute(0, 3, 1, 2)
                feats.append(cnn)
            else:
                tokens = block(tokens)
            if index in ends[:-1]:
                guide = self.consult_generators[stage](
                    tokens.permute(0, 3, 1, 2) + cnn).permute(0, 2, 3, 1)
        return tuple(feats)
