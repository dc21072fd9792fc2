# SAM-SPL-T on NUDT-SIRST at 256 (reference recipe; paper: IoU 94.63).
_base_ = [
    '../_base_/models/samspl.py', '../_base_/datasets/nudt_sirst.py',
    '../_base_/schedules/samspl_300e.py', '../_base_/default_runtime.py'
]
from serankdet import recipes  # noqa: E402

# The SAM2.1 Hiera-Tiny checkpoint (see README.md); pretrained=None trains on
# a randomly initialised frozen trunk.
model = dict(
    # the reference's NUDT-SIRST statistics: the dataset's (img_norm_cfg)
    data_preprocessor=recipes.normalization(_base_.img_norm_cfg,
                                            in_channels=3),
    backbone=dict(trunk=dict(pretrained='checkpoints/sam2.1_hiera_tiny.pt')))
# Frames are 256x256 already: the reference's resize and 256 crop are
# identities; it flips vertically, horizontally and transposes (p=0.5 each).
# Frames are read as RGB, as the reference's PIL convert('RGB') (issue 31).
train_pipeline = recipes.with_color_type(
    recipes.pipeline(
        dict(type='RandomFlip', prob=0.5, direction='vertical'),
        dict(type='RandomFlip', prob=0.5, direction='horizontal'),
        dict(type='RandomTranspose', prob=0.5)), 'rgb')
test_pipeline = recipes.with_color_type(_base_.test_pipeline, 'rgb')
train_dataloader = dict(batch_size=12, dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
