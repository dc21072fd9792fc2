"""UIU-Net's encoder (Wu et al., TIP 2023): a U-Net of residual U-blocks."""
from typing import Sequence

from serankdet.registry import MODELS
from ..layers.rsu_block import RSUBlock
from .unet_encoder import PooledStagesEncoder


@MODELS.register_module()
class UIUNetEncoder(PooledStagesEncoder):
    """Stages of :class:`RSUBlock`, 2x2 max pooling (``ceil_mode``) between
    (:class:`PooledStagesEncoder`).

    Stage i runs at 1/2**i of the input size. The default is UIU-Net's
    (U^2-Net's) encoder: RSU-7, -6, -5, -4, -4F, -4F with widths
    (in -> mid -> out) 32 -> 64, 32 -> 128, 64 -> 256, 128 -> 512,
    256 -> 512, 256 -> 512.

    Input (B, in_channels, H, W), any H, W (odd sizes are pooled with
    ``ceil_mode``); output: tuple of (B, out_channels[i], ceil(H / 2**i),
    ceil(W / 2**i)), finest first.

    Args:
        in_channels (int): input channels (3 for the official weights).
        mid_channels (Sequence[int]): inner width of every stage.
        out_channels (Sequence[int]): output width of every stage.
        depths (Sequence[int]): RSU depth L of every stage.
        dilated (Sequence[bool]): which stages are RSU-LF (dilated).
    """

    def __init__(self,
                 in_channels: int = 3,
                 mid_channels: Sequence[int] = (32, 32, 64, 128, 256, 256),
                 out_channels: Sequence[int] = (64, 128, 256, 512, 512, 512),
                 depths: Sequence[int] = (7, 6, 5, 4, 4, 4),
                 dilated: Sequence[bool] = (False, False, False, False, True,
                                            True),
                 init_cfg=None):
        specs = (mid_channels, out_channels, depths, dilated)
        if len({len(spec) for spec in specs}) != 1:
            raise ValueError(
                'UIUNetEncoder: mid_channels, out_channels, depths and '
                'dilated need one value per stage, got lengths '
                f'{[len(spec) for spec in specs]}')
        widths = [in_channels, *out_channels]
        super().__init__(
            out_channels,
            (RSUBlock(widths[i], mid, out, depth, dil)
             for i, (mid, out, depth, dil) in enumerate(zip(*specs))),
            ceil_mode=True,
            init_cfg=init_cfg)
