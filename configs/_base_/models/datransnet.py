# DATransNet (Hu et al., 2024; greekinRoma/DATransNet): residual encoder,
# gradient attention (DATrans) on the skips, GFEM bottleneck, gated decoder,
# Inception depthwise head. One logit map, no deep supervision.
# Input: gray / 255, no mean/std (in_channels=1, mean 0, std 1); sides padded
# to multiples of 32 (GFEM pools the 1/16 feature once more).
_base_ = []
from serankdet import recipes  # noqa: E402

img_size = 256  # training size; fixes the attention's 1/sqrt(area) constants
model = dict(
    type='IRSTDSegmentor',
    data_preprocessor=dict(
        type='IRSTDDataPreProcessor', in_channels=1, mean=(0.0, ),
        std=(1.0, ), size_divisor=32),
    backbone=recipes.residual_unet_encoder((16, 32, 64, 128, 128)),
    neck=dict(
        type='DATransNetDecoder',
        in_channels=(16, 32, 64, 128, 128),
        out_channels=(16, 16, 32, 64),
        img_size=img_size,
        attn_channels=(16, 32, 32, 32),
        attn_dilations=((1, 3), (1, 3), (1, 3), (1, )),
        num_convs=2),
    decode_head=dict(
        type='DATransNetHead',
        in_channels=16,
        branch_ratio=0.25,
        loss_decode=dict(type='SoftIoULoss', reduction='batch'),
        threshold=0.5),
    test_cfg=dict(mode='whole'))
