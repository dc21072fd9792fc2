# ALCNet (Dai et al., "Attentional Local Contrast Networks for Infrared Small
# Target Detection", TGRS 2021) as BasicIRSTD builds and runs it, the version
# whose numbers are quoted (XinyiYing/BasicIRSTD model/ACM/model_ALCnet.py,
# ASKCResNetFPN, defaults). Note: that network has no local-contrast module;
# it is ACM's encoder with 4 basic blocks per stage and an FPN-like decoder:
# transposed conv + asymmetric fusion at 1/8 and 1/4 (the residual layers it
# also builds are never used), a last transposed conv to 8 channels at 1/2,
# FCN head, bilinear upsampling. One logit map, batch soft-IoU loss.
# Input as ACM (configs/_base_/models/acm.py).
model = dict(
    type='IRSTDSegmentor',
    data_preprocessor=dict(
        type='IRSTDDataPreProcessor', in_channels=1,
        mean=(101.06385040283203 / 255, ), std=(34.619606018066406 / 255, ),
        size_divisor=32),
    backbone=dict(
        type='ASKCResNet', in_channels=1, stem_channels=8,
        channels=(16, 32, 64), num_blocks=(4, 4, 4)),
    neck=dict(type='AsymFusionDecoder', in_channels=(16, 32, 64),
              num_blocks=0, out_channels=8),
    decode_head=dict(
        type='FCNIRSTDHead',
        in_channels=8,
        loss_decode=dict(type='SoftIoULoss', reduction='batch'),
        threshold=0.5),
    test_cfg=dict(mode='whole'))
