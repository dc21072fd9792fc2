# MSHNet (Liu et al., CVPR 2024; Lliu666/MSHNet): a U-Net of residual-CBAM
# blocks (widths 16-256) with a multi-scale head: a 1x1 logit conv on every
# decoder scale, fused by a 3x3 conv at full resolution; the SLS loss on
# every map (labels max-pooled to each scale), weighted 1/5 each.
# Warm-up (the reference's warm_flag and warm_epoch=5): during epochs 0-5 the
# head predicts from the finest scale only and the loss is the plain soft IoU;
# SetEpochHook (configs/mshnet/*) tells both the epoch.
# Input: gray copied to RGB, ImageNet mean/std (the reference converts frames
# to RGB and normalises so); sides padded to multiples of 16 (4 poolings).
_base_ = []
from serankdet import recipes  # noqa: E402

warm_up_epochs = 5
channels = (16, 32, 64, 128, 256)
model = dict(
    type='IRSTDSegmentor',
    data_preprocessor=recipes.imagenet_data_preprocessor(size_divisor=16),
    backbone=dict(
        type='MSHNetEncoder', in_channels=3, channels=channels,
        num_blocks=(1, 2, 2, 2, 2)),
    neck=dict(type='MSHNetDecoder', in_channels=channels,
              num_blocks=(1, 2, 2, 2)),
    decode_head=dict(
        type='MSHNetHead',
        in_channels=channels[:4],
        side_kernel_size=1,
        fuse_kernel_size=3,
        warm_up_epochs=warm_up_epochs,
        loss_decode=dict(
            type='SLSIoULoss', warm_up_epochs=warm_up_epochs,
            with_location=True),
        threshold=0.5),
    test_cfg=dict(mode='whole'))
