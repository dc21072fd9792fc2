# The common IRSTD settings at base size 512 (SIRST as SeRankDet trains it,
# IRSTD-1k): the same recipe with 512 crops and batch 4.
_base_ = ['./irstd_common.py']
base_size = 512
crop_size = (512, 512)
train_pipeline = [
    dict(type='LoadIRSTDImageFromFile'),
    dict(type='LoadIRSTDAnnotations'),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='RandomRescaleLongSide', base_size=base_size,
         ratio_range=(0.5, 2.0)),
    dict(type='Pad', size=crop_size, pad_val=dict(img=0, seg=0)),
    dict(type='RandomCrop', crop_size=crop_size),
    dict(type='RandomGaussianBlur', prob=0.5, radius_range=(0.0, 1.0)),
    dict(type='PackIRSTDInputs'),
]
legacy_test_pipeline = [
    dict(type='LoadIRSTDImageFromFile'),
    dict(type='LoadIRSTDAnnotations'),
    dict(type='LegacyTestResize', size=base_size),
    dict(type='PackIRSTDInputs'),
]
train_dataloader = dict(batch_size=4, dataset=dict(pipeline=train_pipeline))
