# SAM-SPL-T on NUDT-SIRST at 256 (reference recipe; paper: IoU 94.63).
_base_ = [
    '../_base_/models/samspl.py', '../_base_/datasets/nudt_sirst.py',
    '../_base_/schedules/samspl_300e.py', '../_base_/default_runtime.py'
]
from serankdet import recipes  # noqa: E402

# The SAM2.1 Hiera-Tiny checkpoint (see README.md); pretrained=None trains on
# a randomly initialised frozen trunk.
model = dict(
    # the reference's NUDT-SIRST statistics, (x - 107.80905151367188) /
    # 33.02274703979492 on the 0-255 scale, here on the 0-1 scale
    data_preprocessor=dict(mean=(107.80905151367188 / 255, ) * 3,
                           std=(33.02274703979492 / 255, ) * 3),
    backbone=dict(trunk=dict(pretrained='checkpoints/sam2.1_hiera_tiny.pt')))
# Frames are 256x256 already: the reference's resize and 256 crop are
# identities; it flips vertically, horizontally and transposes (p=0.5 each).
train_pipeline = recipes.pipeline(
    dict(type='RandomFlip', prob=0.5, direction='vertical'),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='RandomTranspose', prob=0.5))
train_dataloader = dict(batch_size=12, dataset=dict(pipeline=train_pipeline))
