# SAM-SPL-S: all four stages of the SAM2.1 Hiera-Small trunk (spl_s.yaml).
_base_ = './samspl-t_1xb12-300e_nudt-sirst-256x256.py'
model = dict(
    backbone=dict(
        trunk=dict(
            embed_dim=96, num_heads=1, stages=(1, 2, 11, 2),
            global_att_blocks=(7, 10, 13), window_spec=(8, 4, 14, 7),
            pretrained='checkpoints/sam2.1_hiera_small.pt')),
    neck=dict(in_channels=(24, 48, 96, 192, 384, 768)))
