# SIRST (NUAA-SIRST) with BasicIRSTD's training recipe (train.py defaults),
# as ACM, ALCNet and SCTransNet train it: batch 16, 256x256 crops (pad,
# random crop, vertical/horizontal flip, transpose; serankdet/recipes.py),
# test at native size. BasicIRSTD's SIRST numbers use DNANet's 50/50 split
# (see sirst.py). The configs standardise the input with the
# dataset's statistics (img_norm_cfg, BasicIRSTD's): model =
#     dict(data_preprocessor=recipes.normalization(_base_.img_norm_cfg)).
_base_ = ['./sirst.py']
from serankdet import recipes  # noqa: E402

crop_size = (256, 256)
# BasicIRSTD pads the standardised frame with 0: the mean gray level here
train_pipeline = recipes.basicirstd_train_pipeline(
    crop_size, pad_val=round(_base_.img_norm_cfg.mean))
train_dataloader = dict(batch_size=16, dataset=dict(pipeline=train_pipeline))
