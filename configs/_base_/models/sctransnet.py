# SCTransNet (Yuan et al., TGRS 2024; xdFai/SCTransNet): residual U-Net
# encoder (base width 32), spatial-channel cross transformer (4 blocks, patch
# sizes 16/8/4/2, one 1/16 token grid) on the four skips, decoder with
# channel cross attention, 1x1 main head plus four deep-supervision maps and
# their fusion (six logit maps, main first). Binary cross-entropy summed over
# the six maps (weight 1 each), as the reference train.py.
# Input: gray standardised with the dataset's mean/std (BasicIRSTD's
# statistics): left unset here, each config gives its dataset's (img_norm_cfg
# of the dataset config, recipes.normalization); sides padded to multiples
# of 32 as the reference's test loader pads (the network itself needs
# multiples of 16).
_base_ = []
from serankdet import recipes  # noqa: E402

model = dict(
    type='IRSTDSegmentor',
    data_preprocessor=recipes.basicirstd_data_preprocessor(),
    backbone=recipes.residual_unet_encoder((32, 64, 128, 256, 256)),
    neck=dict(
        type='SCTransNetDecoder',
        in_channels=(32, 64, 128, 256, 256),
        out_channels=(32, 32, 64, 128),
        patch_sizes=(16, 8, 4, 2),
        num_layers=4,
        ffn_expansion=2.66,
        num_convs=2),
    decode_head=dict(
        type='SCTransNetHead',
        in_channels=(32, 32, 64, 128, 256),
        side_in_indices=(4, 3, 2, 1),
        loss_decode=dict(type='SigmoidBCELoss'),
        output_weights=(1, 1, 1, 1, 1, 1),
        threshold=0.5),
    test_cfg=dict(mode='whole'),
    # the reference train.py's weights_init_kaiming: every Conv*/Linear
    # weight kaiming_normal (fan_in, gain sqrt(2)), their biases left at
    # PyTorch's default; BatchNorm weight N(1, 0.02) and bias 0
    init_cfg=[
        dict(type='WeightsOnly',
             init=dict(type='Kaiming', layer=['Conv1d', 'Conv2d', 'Linear'],
                       a=0, mode='fan_in', nonlinearity='leaky_relu',
                       distribution='normal')),
        dict(type='Normal', layer='BatchNorm2d', mean=1.0, std=0.02, bias=0)
    ])
