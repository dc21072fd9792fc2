"""Two-way (token <-> image) transformer of the SAM mask decoder.

Written from the SAM / SAM2 design description (Kirillov et al., 2023; Ravi
et al., 2024). Parameter names follow the SAM2 checkpoints
(``sam_mask_decoder.transformer.*``) so their weights could be mapped 1:1.
"""
from typing import Tuple

import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor


class MLP(nn.Module):
    """``num_layers`` Linear layers with an activation between them.

    Keys ``layers.{i}`` as in SAM / SAM2. (B, *, in_dim) -> (B, *, out_dim).
    """

    def __init__(self, in_dim: int, hidden_dim: int, out_dim: int,
                 num_layers: int, act_layer: type = nn.ReLU):
        super().__init__()
        dims = [in_dim] + [hidden_dim] * (num_layers - 1) + [out_dim]
        self.layers = nn.ModuleList(
            nn.Linear(d_in, d_out) for d_in, d_out in zip(dims, dims[1:]))
        self.act = act_layer()

    def forward(self, x: Tensor) -> Tensor:
        for index, layer in enumerate(self.layers):
            x = layer(x)
            if index < len(self.layers) - 1:
                x = self.act(x)
        return x


class DownProjAttention(nn.Module):
    """Multi-head attention whose q/k/v live in ``dim // downsample_rate``.

    q (B, Nq, dim), k and v (B, Nk, dim) -> (B, Nq, dim). The heads split the
    reduced dimension; the scale is 1/sqrt(head dim) (SDPA default).
    """

    def __init__(self, dim: int, num_heads: int, downsample_rate: int = 1):
        super().__init__()
        inner = dim // downsample_rate
        if inner % num_heads:
            raise ValueError(f'num_heads ({num_heads}) must divide the '
                             f'attention dimension {inner}')
        self.num_heads = num_heads
        self.q_proj = nn.Linear(dim, inner)
        self.k_proj = nn.Linear(dim, inner)
        self.v_proj = nn.Linear(dim, inner)
        self.out_proj = nn.Linear(inner, dim)

    def _heads(self, x: Tensor) -> Tensor:
        batch, tokens, channels = x.shape
        return x.reshape(batch, tokens, self.num_heads,
                         channels // self.num_heads).transpose(1, 2)

    def forward(self, q: Tensor, k: Tensor, v: Tensor) -> Tensor:
        out = F.scaled_dot_product_attention(
            self._heads(self.q_proj(q)), self._heads(self.k_proj(k)),
            self._heads(self.v_proj(v)))
        batch, _, tokens, _ = out.shape
        return self.out_proj(out.transpose(1, 2).reshape(batch, tokens, -1))


class TwoWayAttentionBlock(nn.Module):
    """Token self-attention, token->image attention, token MLP, then
    image->token attention; a post-LayerNorm after each step.

    The first block of the stack attends without positional encodings and
    replaces (not adds to) the tokens with its self-attention output.
    """

    def __init__(self, dim: int, num_heads: int, mlp_dim: int,
                 downsample_rate: int, skip_first_layer_pe: bool):
        super().__init__()
        self.self_attn = DownProjAttention(dim, num_heads)
        self.norm1 = nn.LayerNorm(dim)
        self.cross_attn_token_to_image = DownProjAttention(
            dim, num_heads, downsample_rate)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = MLP(dim, mlp_dim, dim, num_layers=2)
        self.norm3 = nn.LayerNorm(dim)
        self.norm4 = nn.LayerNorm(dim)
        self.cross_attn_image_to_token = DownProjAttention(
            dim, num_heads, downsample_rate)
        self.skip_first_layer_pe = skip_first_layer_pe

    def forward(self, queries: Tensor, keys: Tensor, query_pe: Tensor,
                key_pe: Tensor) -> Tuple[Tensor, Tensor]:
        if self.skip_first_layer_pe:
            queries = self.self_attn(queries, queries, queries)
        else:
            q = queries + query_pe
            queries = queries + self.self_attn(q, q, queries)
        queries = self.norm1(queries)
        q, k = queries + query_pe, keys + key_pe
        queries = self.norm2(
            queries + self.cross_attn_token_to_image(q, k, keys))
        queries = self.norm3(queries + self.mlp(queries))
        q = queries + query_pe
        keys = self.norm4(
            keys + self.cross_attn_image_to_token(k, q, queries))
        return queries, keys


class TwoWayTransformer(nn.Module):
    """Stack of :class:`TwoWayAttentionBlock` plus a final token->image
    attention.

    Args:
        depth (int): number of blocks.
        dim (int): token / image embedding dimension.
        num_heads (int): attention heads.
        mlp_dim (int): hidden size of the token MLP.
        downsample_rate (int): cross-attentions work in ``dim // rate``.

    Forward: image (B, dim, h, w), image_pe (B, dim, h, w) added to the image
    keys, tokens (B, N, dim) that are also their own positional encoding ->
    (tokens (B, N, dim), image tokens (B, h*w, dim)).
    """

    def __init__(self, depth: int = 2, dim: int = 256, num_heads: int = 8,
                 mlp_dim: int = 2048, downsample_rate: int = 2):
        super().__init__()
        self.dim = dim
        self.layers = nn.ModuleList(
            TwoWayAttentionBlock(dim, num_heads, mlp_dim, downsample_rate,
                                 skip_first_layer_pe=index == 0)
            for index in range(depth))
        self.final_attn_token_to_image = DownProjAttention(
            dim, num_heads, downsample_rate)
        self.norm_final_attn = nn.LayerNorm(dim)

    def forward(self, image: Tensor, image_pe: Tensor,
                tokens: Tensor) -> Tuple[Tensor, Tensor]:
        keys = image.flatten(2).transpose(1, 2)
        key_pe = image_pe.flatten(2).transpose(1, 2)
        queries = tokens
        for layer in self.layers:
            queries, keys = layer(queries, keys, tokens, key_pe)
        attn = self.final_attn_token_to_image(queries + tokens,
                                              keys + key_pe, keys)
        return self.norm_final_attn(queries + attn), keys
