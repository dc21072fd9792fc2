# SAM-SPL with a quarter-width, five-block Hiera trunk (random, frozen) and
# a narrow decoder, for tests that push large frames through the tools on
# CPU: the same blocks, windows and padding rule (sides to multiples of 32).
_base_ = ['../../../configs/samspl/samspl-t_1xb12-300e_nudt-sirst-256x256.py']
model = dict(
    backbone=dict(trunk=dict(
        embed_dim=24, stages=(1, 2, 2), global_att_blocks=(4, ),
        pretrained=None)),
    neck=dict(in_channels=(6, 12, 24, 48, 96), embed_dim=32,
              transformer=dict(num_heads=2, mlp_dim=64)),
    decode_head=dict(in_channels=(3, 6, 12)))
