# Width-reduced SeRankDet for CPU experiments (not a paper setting):
# base_channels 8 (channels 8 ... 128, 3.4 M parameters) with the
# reference K per stage (512 ... 32: topk_budget = 512 * 8), SIRST at
# base/crop 256, batch 4, 400 iterations of AdamW 1e-3 (50 warm-up
# iterations, then poly), test split evaluated at the end.
_base_ = [
    '../_base_/models/serankdet.py', '../_base_/datasets/irstd_common.py',
    '../_base_/schedules/schedule_2k.py', '../_base_/default_runtime.py'
]
from serankdet import recipes  # noqa: E402

base_channels = 8
channels = [base_channels * 2**i for i in range(5)]
model = dict(
    backbone=dict(base_channels=base_channels,
                  topk_budget=512 * base_channels),
    neck=dict(in_channels=channels),
    decode_head=dict(in_channels=channels))
# SIRST with the common 256 recipe (the paper config uses base 512)
data_root = 'datasets/SIRST'
# iteration-based: one endless shuffled stream (no pause between epochs)
train_dataloader = dict(batch_size=4, num_workers=2,
                        sampler=dict(type='InfiniteSampler', shuffle=True),
                        dataset=dict(data_root=data_root))
auto_scale_lr = dict(base_batch_size=4)
val_dataloader = dict(num_workers=2, dataset=dict(data_root=data_root))
test_dataloader = val_dataloader
train_cfg = dict(type='IterBasedTrainLoop', max_iters=400, val_interval=400)
param_scheduler = recipes.poly_param_scheduler(train_cfg['max_iters'],
                                               warmup_iters=50)
default_hooks = dict(checkpoint=dict(interval=400))
