# The CPU flagship (width-8 SeRankDet, 10k iterations, early stopping; see
# serankdet-w8_1xb4-10k_sirst-256x256.py) on SIRST-V2 with its target-free
# frames (issue 28): 256x256 crops cut from whole frames at native
# resolution (no resize; zero padding up to the crop), half of them around
# a target pixel on frames with targets, uniform on target-free frames;
# vertical/horizontal flip and transpose (recipes.basicirstd_train_pipeline).
# Each epoch of the sampler holds every frame with a target once and half
# as many target-free frames (NegativeRatioSampler, negative_ratio). The
# batch soft IoU of the six outputs saturates on a batch of target-free
# crops (docs/empty_crops.md): empty_weight adds the mean probability of
# each target-free crop. Tested at native size (SIRST-V2's 131 target-free
# test frames count in Fa).
_base_ = ['./serankdet-w8_1xb4-10k_sirst-256x256.py']
from serankdet import recipes  # noqa: E402

data_root = 'datasets/SIRST-V2'
crop_size = (256, 256)
negative_ratio = 0.5
train_pipeline = recipes.basicirstd_train_pipeline(crop_size)
train_dataloader = dict(
    sampler=recipes.negative_ratio_sampler(negative_ratio),
    dataset=dict(data_root=data_root, pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(data_root=data_root))
test_dataloader = val_dataloader
model = dict(decode_head=dict(loss_decode=dict(
    type='SoftIoULoss', reduction='batch', empty_weight=1.0)))
