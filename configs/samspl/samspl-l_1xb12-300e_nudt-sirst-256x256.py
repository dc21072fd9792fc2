# SAM-SPL-L: the first three stages of the SAM2.1 Hiera-Large trunk
# (spl_l.yaml). SAM2-L starts with 2 heads (2, 4, 8 per stage); the reference
# hard-codes 1, which loads the same weights but splits the heads wrongly.
_base_ = './samspl-t_1xb12-300e_nudt-sirst-256x256.py'
model = dict(
    backbone=dict(
        trunk=dict(
            embed_dim=144, num_heads=2, stages=(2, 6, 36),
            global_att_blocks=(23, 33, 43), window_spec=(8, 4, 16),
            pretrained='checkpoints/sam2.1_hiera_large.pt')),
    neck=dict(in_channels=(36, 72, 144, 288, 576)),
    decode_head=dict(in_channels=(18, 36, 72)))
