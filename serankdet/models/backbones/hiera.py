"""The hierarchical ViT trunk of SAM2 ("Hiera", Ryali et al., 2023; Ravi et
al., 2024), written from its description; parameter names follow the SAM2.1
checkpoints (``image_encoder.trunk.*``) so those weights load as they are.
"""
import re
from collections import OrderedDict
from typing import List, Optional, Sequence, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.logging import print_log
from mmengine.model import BaseModule
from torch import Tensor

from serankdet.registry import MODELS
from serankdet.utils.checkpoint import load_checkpoint_file
from ..layers.two_way_transformer import MLP

SAM2_TRUNK_PREFIX = 'image_encoder.trunk.'


def window_partition(x: Tensor, window: int) -> Tuple[Tensor, Tuple[int, int]]:
    """(B, H, W, C) -> (B * nW, window, window, C), zero-padding H and W up
    to multiples of ``window``; also returns the padded size."""
    batch, height, width, channels = x.shape
    pad_h, pad_w = -height % window, -width % window
    if pad_h or pad_w:
        x = F.pad(x, (0, 0, 0, pad_w, 0, pad_h))
    height, width = height + pad_h, width + pad_w
    x = x.view(batch, height // window, window, width // window, window,
               channels)
    return (x.permute(0, 1, 3, 2, 4, 5).reshape(-1, window, window, channels),
            (height, width))


def window_unpartition(windows: Tensor, window: int, padded: Tuple[int, int],
                       size: Tuple[int, int]) -> Tensor:
    """Inverse of :func:`window_partition`, cropping the padding away."""
    (pad_height, pad_width), (height, width) = padded, size
    batch = windows.shape[0] // (pad_height * pad_width // window // window)
    x = windows.view(batch, pad_height // window, pad_width // window, window,
                     window, -1)
    x = x.permute(0, 1, 3, 2, 4, 5).reshape(batch, pad_height, pad_width, -1)
    return x[:, :height, :width]


def max_pool_nhwc(x: Tensor, stride: int) -> Tensor:
    """2D max pooling (kernel = stride) of an NHWC tensor."""
    return F.max_pool2d(x.permute(0, 3, 1, 2), stride,
                        stride).permute(0, 2, 3, 1)


class MultiScaleAttention(nn.Module):
    """(Windowed) self-attention whose queries may be max-pooled.

    (B, H, W, dim) -> (B, H/s, W/s, dim_out), s = ``q_stride`` (1: none).
    """

    def __init__(self, dim: int, dim_out: int, num_heads: int,
                 q_stride: int = 1):
        super().__init__()
        self.num_heads = num_heads
        self.q_stride = q_stride
        self.qkv = nn.Linear(dim, dim_out * 3)
        self.proj = nn.Linear(dim_out, dim_out)

    def forward(self, x: Tensor) -> Tensor:
        batch, height, width, _ = x.shape
        qkv = self.qkv(x).reshape(batch, height * width, 3, self.num_heads, -1)
        q, k, v = qkv.unbind(2)
        if self.q_stride > 1:
            q = max_pool_nhwc(q.reshape(batch, height, width, -1),
                              self.q_stride)
            height, width = q.shape[1:3]
            q = q.reshape(batch, height * width, self.num_heads, -1)
        x = F.scaled_dot_product_attention(
            q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2))
        x = x.transpose(1, 2).reshape(batch, height, width, -1)
        return self.proj(x)


class MultiScaleBlock(nn.Module):
    """Pre-norm transformer block of Hiera, (B, H, W, dim) -> (B, H/s, W/s,
    dim_out).

    Attention runs in ``window_size`` windows (0: global). A stage-change
    block (dim != dim_out) pools its queries by ``q_stride`` and its shortcut
    is ``maxpool(proj(norm1(x)))``. MLP ratio 4 with GELU; LayerNorm eps 1e-6.
    """

    def __init__(self, dim: int, dim_out: int, num_heads: int,
                 window_size: int, q_stride: int = 1, mlp_ratio: float = 4.0):
        super().__init__()
        self.window_size = window_size
        self.q_stride = q_stride
        self.norm1 = nn.LayerNorm(dim, eps=1e-6)
        self.attn = MultiScaleAttention(dim, dim_out, num_heads, q_stride)
        self.norm2 = nn.LayerNorm(dim_out, eps=1e-6)
        self.mlp = MLP(dim_out, int(dim_out * mlp_ratio), dim_out,
                       num_layers=2, act_layer=nn.GELU)
        if dim != dim_out:
            self.proj = nn.Linear(dim, dim_out)

    def forward(self, x: Tensor) -> Tensor:
        shortcut = x
        x = self.norm1(x)
        if hasattr(self, 'proj'):
            shortcut = self.proj(x)
            if self.q_stride > 1:
                shortcut = max_pool_nhwc(shortcut, self.q_stride)
        window = self.window_size
        if window:
            x, padded = window_partition(x, window)
        x = self.attn(x)
        if window:
            # queries were pooled inside each window: the windows shrank
            window //= self.q_stride
            size = shortcut.shape[1:3]
            padded = tuple(s + (-s % window) for s in size)
            x = window_unpartition(x, window, padded, size)
        x = shortcut + x
        return x + self.mlp(self.norm2(x))


@MODELS.register_module()
class HieraTrunk(BaseModule):
    """SAM2's Hiera image trunk, optionally truncated and frozen.

    ``forward`` runs every block and returns the stage outputs, finest first,
    NCHW. Models that interleave their own computation with the trunk drive
    it block by block instead: :meth:`embed`, then ``blocks[i]`` (NHWC
    tokens), with stage boundaries in :attr:`stage_ends`.

    Args:
        embed_dim (int): channels of stage 1 (doubled at each stage).
        num_heads (int): heads of stage 1 (doubled at each stage).
        stages (Sequence[int]): blocks per stage; a prefix of a SAM2 model's
            stages uses only its first stages.
        global_att_blocks (Sequence[int]): blocks with global attention.
        window_spec (Sequence[int]): attention window per stage.
        window_pos_embed_bkg_spatial_size (Sequence[int]): size of the
            background positional embedding (resized bicubically to the
            token grid; the stage-1 window embedding is tiled on top).
        q_stride (int): query pooling stride at stage changes.
        pretrained (str, optional): SAM2 / SAM2.1 checkpoint
            (``{"model": state_dict}``); only ``image_encoder.trunk.*`` is
            used, loaded by :meth:`init_weights`.
        frozen (bool): no gradients, and always in eval mode.

    SAM2.1 trunks: tiny 96/1/(1,2,7,2)/(5,7,9)/(8,4,14,7); small
    96/1/(1,2,11,2)/(7,10,13)/(8,4,14,7); base+ 112/2/(2,3,16,3)/(12,16,20)/
    (8,4,14,7) with 14x14 background; large 144/2/(2,6,36,4)/(23,33,43)/
    (8,4,16,8) (embed_dim/num_heads/stages/global blocks/windows).
    """

    def __init__(self,
                 embed_dim: int = 96,
                 num_heads: int = 1,
                 stages: Sequence[int] = (1, 2, 7, 2),
                 global_att_blocks: Sequence[int] = (5, 7, 9),
                 window_spec: Sequence[int] = (8, 4, 14, 7),
                 window_pos_embed_bkg_spatial_size: Sequence[int] = (7, 7),
                 q_stride: int = 2,
                 pretrained: Optional[str] = None,
                 frozen: bool = False,
                 init_cfg=None):
        super().__init__(init_cfg)
        if len(window_spec) < len(stages):
            raise ValueError(f'window_spec {list(window_spec)} needs one '
                             f'window per stage of {list(stages)}')
        self.stages = list(stages)
        self.pretrained = pretrained
        self.frozen = frozen
        self.stage_ends = [sum(stages[:i + 1]) - 1 for i in range(len(stages))]
        self.patch_embed = nn.Sequential(OrderedDict(
            proj=nn.Conv2d(3, embed_dim, 7, stride=4, padding=3)))
        self.pos_embed = nn.Parameter(
            torch.zeros(1, embed_dim, *window_pos_embed_bkg_spatial_size))
        self.pos_embed_window = nn.Parameter(
            torch.zeros(1, embed_dim, window_spec[0], window_spec[0]))
        self.blocks = nn.ModuleList()
        self.channels: List[int] = []
        dim, stage = embed_dim, 0
        for index in range(sum(stages)):
            # a stage-change block still uses the previous stage's window
            window = 0 if index in global_att_blocks else window_spec[stage]
            dim_out, stride = dim, 1
            if index - 1 in self.stage_ends:
                dim_out, num_heads, stride = 2 * dim, 2 * num_heads, q_stride
                stage += 1
            self.blocks.append(
                MultiScaleBlock(dim, dim_out, num_heads, window, stride))
            dim = dim_out
            if index in self.stage_ends:
                self.channels.append(dim)
        if frozen:
            self.requires_grad_(False)

    def train(self, mode: bool = True):
        """A frozen trunk stays in eval mode."""
        return super().train(mode and not self.frozen)

    def pos_embedding(self, height: int, width: int) -> Tensor:
        """Positional embedding (1, height, width, C) of the token grid."""
        pos = F.interpolate(self.pos_embed, size=(height, width),
                            mode='bicubic')
        window = self.pos_embed_window
        if height % window.shape[-2] or width % window.shape[-1]:
            raise ValueError(
                f'the token grid {height}x{width} (input / 4) must be a '
                f'multiple of the {window.shape[-1]}x{window.shape[-2]} '
                'window embedding: use input sides that are multiples of '
                f'{4 * window.shape[-1]}')
        pos = pos + window.tile(1, 1, height // window.shape[-2],
                                width // window.shape[-1])
        return pos.permute(0, 2, 3, 1)

    def embed(self, x: Tensor) -> Tensor:
        """(B, 3, H, W) -> patch tokens plus position (B, H/4, W/4, C)."""
        x = self.patch_embed(x).permute(0, 2, 3, 1)
        return x + self.pos_embedding(*x.shape[1:3])

    def forward(self, x: Tensor) -> Tuple[Tensor, ...]:
        """(B, 3, H, W) -> stage outputs (B, C_i, H/2^(i+2), ...), finest
        first."""
        tokens, outs = self.embed(x), []
        for index, block in enumerate(self.blocks):
            tokens = block(tokens)
            if index in self.stage_ends:
                outs.append(tokens.permute(0, 3, 1, 2))
        return tuple(outs)

    def init_weights(self):
        super().init_weights()
        if self.pretrained is not None:
            self.load_sam2_checkpoint(self.pretrained)

    def load_sam2_checkpoint(self, path: str) -> None:
        """Load the trunk of a SAM2 / SAM2.1 checkpoint.

        Accepts ``{"model": state_dict}`` (the released files) or a bare
        state dict with ``image_encoder.trunk.*`` keys. Trunk blocks beyond
        this trunk's depth (its unused last stage) are ignored.

        Raises:
            FileNotFoundError: ``path`` does not exist.
            ValueError: the checkpoint has no trunk, or a trunk of another
                variant (different stages, missing keys or shapes); the
                message lists the differences.
        """
        try:
            checkpoint = load_checkpoint_file(path, map_location='cpu')
        except FileNotFoundError as err:
            raise FileNotFoundError(
                f'SAM2 checkpoint "{path}" (pretrained=) does not exist: '
                'download the SAM2.1 checkpoint of this variant (e.g. '
                'sam2.1_hiera_tiny.pt) or set pretrained=None') from err
        state = checkpoint.get('model', checkpoint) \
            if isinstance(checkpoint, dict) else None
        trunk = {k[len(SAM2_TRUNK_PREFIX):]: v
                 for k, v in (state or {}).items()
                 if k.startswith(SAM2_TRUNK_PREFIX)}
        if not trunk:
            raise ValueError(
                f'"{path}" holds no {SAM2_TRUNK_PREFIX}* weights: expected a '
                'SAM2 checkpoint ({"model": state_dict})')
        self._check_sam2_stages(path, trunk)
        own = self.state_dict()
        missing = sorted(set(own) - set(trunk))
        mismatched = [f'{k}: checkpoint {tuple(trunk[k].shape)} vs trunk '
                      f'{tuple(v.shape)}' for k, v in own.items()
                      if k in trunk and trunk[k].shape != v.shape]
        if missing or mismatched:
            raise ValueError(
                f'"{path}" is a SAM2 checkpoint of another variant than this '
                f'trunk (embed_dim {self.blocks[0].norm1.normalized_shape[0]},'
                f' stages {self.stages}):\n' + '\n'.join(
                    [f'missing: {k}' for k in missing[:20]] +
                    mismatched[:20]))
        self.load_state_dict({k: trunk[k] for k in own})
        print_log(f'loaded the SAM2 trunk ({len(own)} tensors) from {path}',
                  logger='current')

    def _check_sam2_stages(self, path: str, trunk: dict) -> None:
        """The stage-change blocks (those with ``proj``) of the checkpoint
        give its stages; this trunk's stages must be a prefix of them."""
        blocks = {int(m.group(1)) for k in trunk
                  for m in [re.match(r'blocks\.(\d+)\.', k)] if m}
        changes = sorted(int(m.group(1)) for k in trunk
                         for m in [re.match(r'blocks\.(\d+)\.proj\.weight$',
                                            k)] if m)
        bounds = [0] + changes + [max(blocks, default=-1) + 1]
        theirs = [b - a for a, b in zip(bounds, bounds[1:])]
        if theirs[:len(self.stages)] != self.stages:
            raise ValueError(
                f'"{path}" is a SAM2 checkpoint with stages {theirs}; this '
                f'trunk needs its first stages to be {self.stages} (another '
                'SAM2 variant: pick the checkpoint that matches the config)')
