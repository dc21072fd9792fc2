# DNANet (Li et al., TIP 2023; YeRen123455/Infrared-Small-Target-Detection),
# the paper's main variant: "ResNet-18" Res-CBAM stages (num_blocks 2, 2, 2,
# 2), widths 16-256 (channel_size 'three'), deep supervision. 4.70 M
# parameters. Gray frames are copied to 3 channels and normalised with
# ImageNet statistics as in the reference; sides padded to multiples of 16.
_base_ = []
from serankdet import recipes  # noqa: E402

channels = (16, 32, 64, 128, 256)
num_blocks = (2, 2, 2, 2)
model = dict(
    type='IRSTDSegmentor',
    data_preprocessor=recipes.imagenet_data_preprocessor(size_divisor=16),
    backbone=dict(
        type='DNANetEncoder', in_channels=3, channels=channels,
        num_blocks=num_blocks),
    neck=dict(
        type='DNANetDecoder', channels=channels, num_blocks=num_blocks),
    decode_head=dict(
        type='IRSTDHead',
        # neck outputs: fused (final4), x0_1, x0_2, x0_3 (final1..3)
        in_channels=(channels[0], ) * 4,
        main_kernel_size=1,
        side_in_indices=(1, 2, 3),
        side_kernel_size=1,
        # the reference averages the batch soft-IoU of its 4 outputs
        output_weights=(0.25, ) * 4,
        loss_decode=dict(type='SoftIoULoss', reduction='batch'),
        threshold=0.5,
        # the reference's Xavier-normal conv weights, biases left at
        # PyTorch's default (as the backbone and neck do)
        init_cfg=dict(type='WeightsOnly',
                      init=dict(type='Xavier', distribution='normal',
                                layer='Conv2d'))),
    test_cfg=dict(mode='whole'))
