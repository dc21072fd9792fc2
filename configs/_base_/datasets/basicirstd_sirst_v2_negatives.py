# SIRST-V2 with its target-free frames in training, on BasicIRSTD's
# recipe: 256x256 crops cut from the whole frame at its native resolution
# (no resize: frames up to 1918x1080; padded with the mean gray level up
# to the crop when smaller), half of them around a target pixel on frames
# with targets, uniform on target-free frames so that their clutter is
# seen; vertical/horizontal flip and transpose (serankdet/recipes.py,
# basicirstd_train_pipeline). Each epoch draws every frame with a target
# once and negative_ratio target-free frames per frame with a target
# (NegativeRatioSampler; the 389 target frames and 379 target-free ones
# of trainval: 389 + 194 frames an epoch, all target-free frames within
# two epochs). Test at native size as sirst_v2.py.
_base_ = ['./sirst_v2.py']
from serankdet import recipes  # noqa: E402

crop_size = (256, 256)
negative_ratio = 0.5
train_pipeline = recipes.basicirstd_train_pipeline(
    crop_size, pad_val=round(_base_.img_norm_cfg.mean))
train_dataloader = dict(
    batch_size=16,
    sampler=recipes.negative_ratio_sampler(negative_ratio),
    dataset=dict(pipeline=train_pipeline))
