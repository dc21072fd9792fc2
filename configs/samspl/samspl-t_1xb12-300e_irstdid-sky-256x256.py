# SAM-SPL-T on IRSTDID-SKY, trained at 256, scored at 480x480 as the
# reference does whatever the training size (paper: IoU 73.40).
_base_ = [
    '../_base_/models/samspl.py', '../_base_/datasets/irstdid_sky.py',
    '../_base_/schedules/samspl_300e.py', '../_base_/default_runtime.py'
]
base_size = 256
crop_size = (256, 256)
model = dict(
    # ImageNet statistics (the model base default)
    backbone=dict(trunk=dict(pretrained='checkpoints/sam2.1_hiera_tiny.pt')))
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
test_pipeline = [
    dict(type='LoadIRSTDImageFromFile'),
    dict(type='LoadIRSTDAnnotations'),
    dict(type='LegacyTestResize', size=480),
    dict(type='PackIRSTDInputs'),
]
train_dataloader = dict(batch_size=12, dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
