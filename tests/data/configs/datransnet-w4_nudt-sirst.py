# DATransNet at a quarter of its width (channels 4 ... 32), for tests that
# push large frames through the tools on CPU: the same blocks, the same
# padding rule (sides to multiples of 32), any frame size whole.
_base_ = ['../../../configs/datransnet/datransnet_1xb4-400e_nudt-sirst-256x256.py']
channels = (4, 8, 16, 32, 32)
model = dict(
    backbone=dict(channels=channels),
    neck=dict(in_channels=channels, out_channels=(4, 4, 8, 16),
              attn_channels=(4, 8, 8, 8)),
    decode_head=dict(in_channels=4))
