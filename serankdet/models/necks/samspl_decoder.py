"""SAM-SPL decoder: self-prompted two-way interaction, calibrated skips."""
from typing import Sequence, Tuple

import torch.nn as nn
from mmengine.model import BaseModule
from torch import Tensor

from serankdet.registry import MODELS
from ..layers.layer_norm2d import LayerNorm2d
from ..layers.samspl_blocks import (MutualCalibrationUpBlock,
                                    SelfPromptGenerator, samspl_init_weights,
                                    skip_conv)
from ..layers.two_way_transformer import MLP, TwoWayTransformer


@MODELS.register_module()
class SAMSPLDecoder(BaseModule):
    """Prompt generation, prompt/latent interaction and the decoder of
    SAM-SPL (Fu et al., 2025).

    Given the encoder features (r0, r1, r2, c_2, ..., c_S), finest first:

    * self-prompt P (B, D, h, w) from r0, r1, r2 (:class:`SelfPromptGenerator`,
      every branch strided down to the deepest feature's size h x w);
    * latent: c_S -> conv1x1 (-> D) -> LayerNorm2d -> GELU -> conv1x1 -> GELU;
    * a two-way transformer between one learned token and the latent, with P
      as the dense positional encoding of the image keys;
    * the image tokens are upscaled x4 (two transposed 2x2 convs -> C), scaled
      channel-wise by an MLP of the token (hypernetwork), then brought to
      1/8 of the input by conv1x1 + BN + GELU and (4 - S) strided 2x2 convs;
    * three :class:`MutualCalibrationUpBlock` stages with the skip-refined
      r2, r1, r0 -> m0 (C/2, H/4), m1 (C/4, H/2), m2 (C/8, H).

    Args:
        in_channels (Sequence[int]): encoder channels, finest first; the
            first three are the stem features (C/4, C/2, C).
        embed_dim (int): transformer / prompt dimension D.
        transformer (dict): :class:`TwoWayTransformer` arguments besides
            ``dim``.

    Forward: features -> (m2, m1, m0), finest first.
    """

    def __init__(self,
                 in_channels: Sequence[int] = (24, 48, 96, 192, 384),
                 embed_dim: int = 256,
                 transformer: dict = dict(depth=2, num_heads=8, mlp_dim=2048,
                                          downsample_rate=2),
                 init_cfg=None):
        super().__init__(init_cfg)
        in_channels = list(in_channels)
        num_trunk_stages = len(in_channels) - 2
        if num_trunk_stages not in (2, 3, 4):
            raise ValueError(
                f'in_channels {in_channels}: expected the three stem features'
                ' followed by one feature per trunk stage after the first '
                '(2 to 4 trunk stages)')
        skip_channels = in_channels[2::-1]  # C, C/2, C/4: r2, r1, r0
        width = skip_channels[0]
        self.prompt_generator = SelfPromptGenerator(
            in_channels[:3],
            [len(in_channels) - 1 - j for j in range(3)], embed_dim)
        self.latent_proj = nn.Sequential(
            nn.Conv2d(in_channels[-1], embed_dim, 1),
            LayerNorm2d(embed_dim, eps=1e-6), nn.GELU(),
            nn.Conv2d(embed_dim, embed_dim, 1), nn.GELU())
        self.mask_token = nn.Embedding(1, embed_dim)
        self.transformer = TwoWayTransformer(dim=embed_dim, **transformer)
        self.upscale = nn.Sequential(
            nn.ConvTranspose2d(embed_dim, embed_dim // 4, 2, stride=2),
            nn.BatchNorm2d(embed_dim // 4), nn.GELU(),
            nn.ConvTranspose2d(embed_dim // 4, width, 2, stride=2), nn.GELU())
        self.hyper_mlp = MLP(embed_dim, embed_dim, width, num_layers=3)
        down = []
        for _ in range(4 - num_trunk_stages):
            down += [nn.Conv2d(width, width, 2, stride=2), nn.GELU()]
        self.down_proj = nn.Sequential(
            nn.Conv2d(width, width, 1), nn.BatchNorm2d(width), nn.GELU(),
            *down)
        self.skip_convs = nn.ModuleList(skip_conv(c) for c in skip_channels)
        self.up_blocks = nn.ModuleList(
            MutualCalibrationUpBlock(c) for c in skip_channels)
        self.out_channels = [c // 2 for c in skip_channels][::-1]

    def init_weights(self):
        samspl_init_weights(self)

    def forward(self, feats: Sequence[Tensor]) -> Tuple[Tensor, ...]:
        prompt = self.prompt_generator(feats[:3])
        latent = self.latent_proj(feats[-1])
        batch, channels, height, width = latent.shape
        token = self.mask_token.weight[None].expand(batch, -1, -1)
        token, image = self.transformer(latent, prompt, token)
        image = image.transpose(1, 2).reshape(batch, channels, height, width)
        deep = self.hyper_mlp(token[:, 0])[:, :, None, None] * \
            self.upscale(image)
        deep = self.down_proj(deep)
        outs = []
        for skip, skip_conv_, up_block in zip(feats[2::-1], self.skip_convs,
                                              self.up_blocks):
            deep = up_block(deep, skip_conv_(skip))
            outs.append(deep)
        return tuple(outs[::-1])
