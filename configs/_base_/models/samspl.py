# SAM-SPL (Fu et al., TGRS 2025; fuyimin96/SAM-SPL), variant t: a Res-CBAM
# task encoder consulting the first three stages of a frozen SAM2.1
# Hiera-Tiny trunk, a self-prompt generator, a two-way transformer between a
# learned token and the latent, mutual-calibration skips; three logit maps
# (full, 1/2, 1/4 resolution, all upsampled to the input), main first.
# Input: the frame read as RGB by the configs (recipes.with_color_type), as
# the reference's PIL convert('RGB'), or gray repeated to 3 channels,
# normalised with the dataset's statistics (each config sets mean/std);
# sides padded to multiples of 32 (the 8x8 window embedding tiles the 1/4
# token grid).
# pretrained: the SAM2.1 checkpoint of the variant (sam2.1_hiera_tiny.pt for
# t); None trains the trunk-free parts on a randomly initialised frozen trunk.
sam2_checkpoint = None
model = dict(
    type='IRSTDSegmentor',
    data_preprocessor=dict(
        type='IRSTDDataPreProcessor', in_channels=3,
        mean=(0.485, 0.456, 0.406), std=(0.229, 0.224, 0.225),
        size_divisor=32),
    backbone=dict(
        type='SAMSPLEncoder',
        trunk=dict(
            embed_dim=96, num_heads=1, stages=(1, 2, 7),
            global_att_blocks=(5, 7, 9), window_spec=(8, 4, 14),
            window_pos_embed_bkg_spatial_size=(7, 7),
            pretrained=sam2_checkpoint)),
    neck=dict(
        type='SAMSPLDecoder', in_channels=(24, 48, 96, 192, 384),
        embed_dim=256,
        transformer=dict(depth=2, num_heads=8, mlp_dim=2048,
                         downsample_rate=2)),
    decode_head=dict(
        type='IRSTDHead', in_channels=(12, 24, 48), main_kernel_size=1,
        side_in_indices=(1, 2), side_kernel_size=1,
        # BCE on each of the three outputs, summed with equal weights
        loss_decode=dict(type='SigmoidBCELoss'),
        output_weights=(1.0, 1.0, 1.0), threshold=0.5,
        # the reference's weights_init_kaiming: Kaiming-normal weights
        # (fan_in, gain sqrt(2)), biases left at PyTorch's default
        init_cfg=dict(type='WeightsOnly',
                      init=dict(type='Kaiming', layer='Conv2d',
                                mode='fan_in', nonlinearity='leaky_relu',
                                a=0, distribution='normal'))),
    test_cfg=dict(mode='whole'))
