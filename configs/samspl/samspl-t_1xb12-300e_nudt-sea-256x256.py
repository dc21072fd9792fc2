# SAM-SPL-T on NUDT-Sea at 256 (reference recipe; paper: IoU 60.93): the
# IRSTD-1k recipe.
_base_ = [
    '../_base_/models/samspl.py', '../_base_/datasets/nudt_sea.py',
    '../_base_/schedules/samspl_300e.py', '../_base_/default_runtime.py'
]
from serankdet import recipes  # noqa: E402

model = dict(
    data_preprocessor=dict(mean=(0.1583, ) * 3, std=(0.0885, ) * 3),
    backbone=dict(trunk=dict(pretrained='checkpoints/sam2.1_hiera_tiny.pt')))
# frames (and target crops) read as RGB, as the reference's PIL
# convert('RGB') (issue 31)
train_pipeline = recipes.with_color_type(
    recipes.train_pipeline(
        _base_.base_size, _base_.crop_size,
        extra=[dict(type='TargetCopyPaste', prob=0.5, max_pastes=100)]),
    'rgb')
test_pipeline = recipes.with_color_type(
    recipes.legacy_test_pipeline(_base_.base_size), 'rgb')
train_dataloader = dict(batch_size=12, dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
