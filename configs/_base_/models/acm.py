# ACM (Dai et al., "Asymmetric Contextual Modulation for Infrared Small Target
# Detection", WACV 2021) as BasicIRSTD builds it (XinyiYing/BasicIRSTD
# model/ACM/model_ACM.py, ASKCResUNet, defaults): residual encoder (3 basic
# blocks per stage, widths 16/32/64 at 1/4, 1/8, 1/16), U-Net decoder with
# transposed convs, asymmetric bi-directional channel fusion and 3 basic
# blocks per level, FCN head at 1/4, bilinear upsampling. One logit map, no
# deep supervision; batch soft-IoU loss (BasicIRSTD's SoftIoULoss).
# Input: gray levels normalized with the dataset's mean and std (BasicIRSTD
# utils.get_img_norm_cfg): left unset here, each config gives its dataset's
# (img_norm_cfg of the dataset config, recipes.normalization); sides padded
# to multiples of 32 as BasicIRSTD's PadImg (the net needs 16).
_base_ = []
from serankdet import recipes  # noqa: E402

model = dict(
    type='IRSTDSegmentor',
    data_preprocessor=recipes.basicirstd_data_preprocessor(),
    backbone=dict(
        type='ASKCResNet', in_channels=1, stem_channels=8,
        channels=(16, 32, 64), num_blocks=(3, 3, 3)),
    neck=dict(type='AsymFusionDecoder', in_channels=(16, 32, 64),
              num_blocks=3),
    decode_head=dict(
        type='FCNIRSTDHead',
        in_channels=16,
        loss_decode=dict(type='SoftIoULoss', reduction='batch'),
        threshold=0.5),
    test_cfg=dict(mode='whole'))
