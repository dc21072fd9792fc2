# The bundled synthetic IR small-target dataset (serankdet/datasets/
# synthetic.py): 200 trainval / 50 test 128x128 8-bit frames with 0-4 dim
# targets of 1-80 px on cluttered backgrounds, generated into data_root the
# first time it is used (about 3 s). targets.json beside the data lists the
# generated targets. Change synthetic_cfg to make another one (in a new
# data_root: an existing folder must match the parameters).
# The recipe is the standard one with a milder rescale range, so a small
# model learns it in minutes on a CPU.
dataset_type = 'SyntheticIRSTDDataset'
data_root = 'datasets/synthetic'
synthetic_cfg = dict(num_train=200, num_test=50, img_size=(128, 128), seed=0)
base_size = 128
crop_size = (128, 128)

# Training recipe of SeRankDet/SCTransNet/BasicIRSTD: flip, random long side
# in [0.5, 2] x base_size, zero-pad bottom/right up to the crop, random crop,
# Gaussian blur. Images stay single-channel at native bit depth; each model's
# data preprocessor scales, replicates channels and normalizes.
train_pipeline = [
    dict(type='LoadIRSTDImageFromFile'),
    dict(type='LoadIRSTDAnnotations'),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='RandomRescaleLongSide', base_size=base_size,
         ratio_range=(0.75, 1.5)),
    # mmcv Pad takes size as (w, h); crops are square
    dict(type='Pad', size=crop_size, pad_val=dict(img=0, seg=0)),
    dict(type='RandomCrop', crop_size=crop_size),
    dict(type='RandomGaussianBlur', prob=0.5, radius_range=(0.0, 1.0)),
    dict(type='PackIRSTDInputs'),
]
# Default protocol: test at native size (the preprocessor pads to the
# network stride, the segmentor removes the padding).
test_pipeline = [
    dict(type='LoadIRSTDImageFromFile'),
    dict(type='LoadIRSTDAnnotations'),
    dict(type='PackIRSTDInputs'),
]
# The references' protocol: resize to base_size x base_size and score there
# (use with test_dataloader=dict(dataset=dict(
#     pipeline={{_base_.legacy_test_pipeline}}))).
legacy_test_pipeline = [
    dict(type='LoadIRSTDImageFromFile'),
    dict(type='LoadIRSTDAnnotations'),
    dict(type='LegacyTestResize', size=base_size),
    dict(type='PackIRSTDInputs'),
]
train_dataloader = dict(
    batch_size=8,
    num_workers=0,
    persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        **synthetic_cfg,
        data_prefix=dict(
            img_path='trainval/images', seg_map_path='trainval/masks'),
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=1,
    num_workers=0,
    persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        **synthetic_cfg,
        data_prefix=dict(img_path='test/images', seg_map_path='test/masks'),
        pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(type='IRSTDMetric')
test_evaluator = val_evaluator
