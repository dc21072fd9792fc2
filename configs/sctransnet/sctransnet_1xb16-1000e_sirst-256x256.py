# SCTransNet on SIRST (NUAA-SIRST) with the reference recipe (train.py
# defaults): batch 16, Adam 1e-3 with 10 warm-up epochs and cosine decay,
# 1000 epochs, BCE summed over the six deep-supervision maps; 256x256 random
# crops of frames zero-padded (normalised) to at least 256, vertical and
# horizontal flips and transposition; test at native size padded to a
# multiple of 32; evaluation every epoch from epoch 500.
_base_ = [
    '../_base_/models/sctransnet.py', '../_base_/datasets/sirst.py',
    '../_base_/schedules/sctransnet_1000e.py', '../_base_/default_runtime.py'
]
from serankdet import recipes  # noqa: E402

crop_size = (256, 256)
# the reference pads the normalised frame with 0: the mean gray level
train_pipeline = recipes.basicirstd_train_pipeline(crop_size, pad_val=101)
train_dataloader = dict(batch_size=16, dataset=dict(pipeline=train_pipeline))
log_processor = dict(by_epoch=True)
