# SeRankDet (Dai et al., TGRS 2024), the reference network: 109.2 M parameters.
# The paper configs read frames as RGB (recipes.with_color_type), as the
# reference's PIL convert('RGB'); gray frames are copied to 3 channels; both
# are normalised with ImageNet statistics as in the reference. Single-channel
# variant (trained from scratch; official weights do not convert to it): set
# data_preprocessor in_channels=1, mean=(0.5, ), std=(0.25, ) and backbone
# in_channels=1.
base_channels = 64
serankdet_channels = [base_channels * 2**i for i in range(5)]
model = dict(
    type='IRSTDSegmentor',
    data_preprocessor=dict(
        type='IRSTDDataPreProcessor',
        in_channels=3,
        mean=(0.485, 0.456, 0.406),
        std=(0.229, 0.224, 0.225),
        size_divisor=16),
    backbone=dict(
        type='SeRankDetEncoder',
        in_channels=3,
        base_channels=base_channels,
        num_stages=5,
        # K = 32768 / C per stage (512 ... 32), as the reference
        topk_budget=32768,
        # False: the reference's batch-wide standardisation in SeRank (a
        # sample's prediction depends on the rest of its batch); True: per
        # sample
        per_sample_norm=False),
    neck=dict(type='LSFFDecoder', in_channels=serankdet_channels),
    decode_head=dict(
        type='IRSTDHead',
        # neck outputs: d2, d3, d4, d5 (decoder, finest first) and e5
        in_channels=serankdet_channels,
        main_kernel_size=1,
        side_in_indices=(0, 1, 2, 3, 4),
        side_kernel_size=3,
        # [out, d_s1, ..., d_s5], soft-IoU on each with weight 1
        output_weights=(1.0, ) * 6,
        loss_decode=dict(type='SoftIoULoss', reduction='batch'),
        threshold=0.5,
        align_corners=False),
    test_cfg=dict(mode='whole'))
