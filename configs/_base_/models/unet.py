# Small U-Net baseline: single-channel input, deep supervision on 3 levels.
channels = (8, 16, 32, 64)
model = dict(
    type='IRSTDSegmentor',
    data_preprocessor=dict(
        type='IRSTDDataPreProcessor', in_channels=1, mean=(0.5, ),
        std=(0.25, ), size_divisor=8),
    backbone=dict(type='UNetEncoder', in_channels=1, channels=channels),
    neck=dict(type='UNetDecoder', in_channels=channels),
    decode_head=dict(
        type='IRSTDHead',
        in_channels=channels,
        main_kernel_size=1,
        side_in_indices=(1, 2),
        side_kernel_size=3,
        output_weights=(1.0, 0.5, 0.25),
        loss_decode=[
            dict(type='SoftIoULoss', reduction='batch'),
            dict(type='SigmoidBCELoss', loss_weight=1.0),
        ],
        threshold=0.5),
    test_cfg=dict(mode='whole'))
