# SAM-SPL-T on IRSTD-1k at 256 (reference recipe; paper: IoU 74.09).
_base_ = [
    '../_base_/models/samspl.py', '../_base_/datasets/irstd1k.py',
    '../_base_/schedules/samspl_300e.py', '../_base_/default_runtime.py'
]
# the copy-paste bank reads the training split from here (an override of
# the dataloaders' data_root must change this too)
data_root = 'datasets/IRSTD-1k'
base_size = 256
crop_size = (256, 256)
model = dict(
    # the reference's per-channel IRSTD-1k statistics, digit for digit
    data_preprocessor=dict(mean=(0.28450727, 0.28450724, 0.28450724),
                           std=(0.22880708, 0.22880709, 0.22880709)),
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
    # crops of the TRAINING split only (the reference's bank leaks test
    # targets, see README.md)
    dict(type='TargetCopyPaste', data_root=data_root,
         data_prefix=dict(img_path='trainval/images',
                          seg_map_path='trainval/masks'),
         prob=0.5, max_pastes=100),
    dict(type='PackIRSTDInputs'),
]
# the reference scores at 256x256 (image bilinear, mask nearest)
test_pipeline = [
    dict(type='LoadIRSTDImageFromFile'),
    dict(type='LoadIRSTDAnnotations'),
    dict(type='LegacyTestResize', size=base_size),
    dict(type='PackIRSTDInputs'),
]
train_dataloader = dict(batch_size=12, dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
