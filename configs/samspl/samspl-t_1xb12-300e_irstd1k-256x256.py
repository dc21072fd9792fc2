# SAM-SPL-T on IRSTD-1k at 256 (reference recipe; paper: IoU 74.09).
_base_ = [
    '../_base_/models/samspl.py', '../_base_/datasets/irstd1k.py',
    '../_base_/schedules/samspl_300e.py', '../_base_/default_runtime.py'
]
from serankdet import recipes  # noqa: E402

base_size = 256
crop_size = (256, 256)
model = dict(
    # the reference's per-channel IRSTD-1k statistics, digit for digit
    data_preprocessor=dict(mean=(0.28450727, 0.28450724, 0.28450724),
                           std=(0.22880708, 0.22880709, 0.22880709)),
    backbone=dict(trunk=dict(pretrained='checkpoints/sam2.1_hiera_tiny.pt')))
# then pastes targets of the training split (TargetCopyPaste takes those of
# the dataset it runs in; the reference's bank leaks test targets, see
# README.md); frames (and target crops) read as RGB, as the reference's
# PIL convert('RGB') (issue 31)
train_pipeline = recipes.with_color_type(
    recipes.train_pipeline(base_size, crop_size, extra=[
        dict(type='TargetCopyPaste', prob=0.5, max_pastes=100)]), 'rgb')
# the reference scores at 256x256 (image bilinear, mask nearest)
test_pipeline = recipes.with_color_type(
    recipes.legacy_test_pipeline(base_size), 'rgb')
train_dataloader = dict(batch_size=12, dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
