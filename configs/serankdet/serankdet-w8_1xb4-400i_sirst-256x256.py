# Width-reduced SeRankDet for CPU experiments (not a paper setting):
# base_channels 8 (channels 8 ... 128, 3.4 M parameters) with the
# reference K per stage (512 ... 32: topk_budget = 512 * 8), SIRST at
# base/crop 256, batch 4, 400 iterations of AdamW 1e-3 (50 warm-up
# iterations, then poly), test split evaluated at the end.
_base_ = [
    '../_base_/models/serankdet.py', '../_base_/datasets/sirst.py',
    '../_base_/schedules/schedule_2k.py', '../_base_/default_runtime.py'
]
base_channels = 8
channels = [base_channels * 2**i for i in range(5)]
model = dict(
    backbone=dict(base_channels=base_channels,
                  topk_budget=512 * base_channels),
    neck=dict(in_channels=channels),
    decode_head=dict(in_channels=channels))
crop_size = (256, 256)
train_pipeline = [
    dict(type='LoadIRSTDImageFromFile'),
    dict(type='LoadIRSTDAnnotations'),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='RandomRescaleLongSide', base_size=256, ratio_range=(0.5, 2.0)),
    dict(type='Pad', size=crop_size, pad_val=dict(img=0, seg=0)),
    dict(type='RandomCrop', crop_size=crop_size),
    dict(type='RandomGaussianBlur', prob=0.5, radius_range=(0.0, 1.0)),
    dict(type='PackIRSTDInputs'),
]
train_dataloader = dict(batch_size=4, num_workers=2,
                        dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(num_workers=2)
test_dataloader = val_dataloader
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=50),
    dict(type='PolyLR', power=0.9, eta_min=1e-5, by_epoch=False, begin=50,
         end=400),
]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=400, val_interval=400)
default_hooks = dict(checkpoint=dict(interval=400))
