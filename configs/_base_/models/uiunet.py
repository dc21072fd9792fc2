# UIU-Net (Wu, Hong and Chanussot, TIP 2023; danfenghong/IEEE_TIP_UIU-Net):
# U^2-Net's nested U-Net (RSU-7 ... RSU-4F encoder and decoder) with
# interactive-cross attention (IC-A) fusing decoder and encoder features at
# the four coarser decoder levels; six side logit maps and their 1x1 fusion,
# 50.5 M parameters. Outputs [d0 (fused, main), d1..d6], all deeply
# supervised with BCE, weight 1 each, as the reference's
# muti_bce_loss_fusion. The reference ends with sigmoid and applies
# nn.BCELoss to the probabilities; here the head returns the logits and
# SigmoidBCELoss computes BCE from them (the same loss, computed stably).
# Input: the gray frame copied to 3 channels and normalised with ImageNet
# statistics (the reference's ToTensorLab(flag=0) on RGB-read frames; the
# official weights take 3 channels). Any input size: pooling uses ceil_mode
# and every upsampling goes to the size of its skip.
_base_ = []
from serankdet import recipes  # noqa: E402

model = dict(
    type='IRSTDSegmentor',
    data_preprocessor=recipes.imagenet_data_preprocessor(),
    backbone=dict(
        type='UIUNetEncoder', in_channels=3,
        mid_channels=(32, 32, 64, 128, 256, 256),
        out_channels=(64, 128, 256, 512, 512, 512),
        depths=(7, 6, 5, 4, 4, 4),
        dilated=(False, False, False, False, True, True)),
    neck=dict(
        type='UIUNetDecoder',
        in_channels=(64, 128, 256, 512, 512, 512),
        mid_channels=(16, 32, 64, 128, 256),
        out_channels=(64, 64, 128, 256, 512),
        depths=(7, 6, 5, 4, 4),
        dilated=(False, False, False, False, True),
        attention_levels=(1, 2, 3, 4),
        reduction=4),
    decode_head=dict(
        type='SideFusionHead',
        in_channels=(64, 64, 128, 256, 512, 512),
        side_kernel_size=3,
        loss_decode=dict(type='SigmoidBCELoss'),
        output_weights=(1.0, ) * 7,
        threshold=0.5,
        align_corners=False),
    test_cfg=dict(mode='whole'))
