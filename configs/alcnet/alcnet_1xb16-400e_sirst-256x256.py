# ALCNet on SIRST (NUAA-SIRST) with BasicIRSTD's recipe (train.py defaults):
# batch 16, 256x256 crops (pad, random crop, vertical/horizontal flip,
# transpose), Adam 5e-4, x0.1 at epochs 200 and 300, 400 epochs, batch
# soft-IoU, test at native size padded to a multiple of 32, threshold 0.5.
# BasicIRSTD tests every 50 epochs and reports epoch 400 (the last checkpoint).
# Split: this repository's SIRST layout is the idx_427 split (trainval 341 /
# test 86); BasicIRSTD's NUAA-SIRST numbers use DNANet's 50/50 split (213 /
# 214, splits/dnanet_50_50 of the shared copy): see configs/alcnet/README.md.
_base_ = [
    '../_base_/models/alcnet.py', '../_base_/datasets/sirst.py',
    '../_base_/schedules/datransnet_400e.py', '../_base_/default_runtime.py'
]
from serankdet import recipes  # noqa: E402

# BasicIRSTD's NUAA-SIRST statistics are the model's default (gray levels
# 101.06 +- 34.62); padding with the mean gray level.
train_pipeline = recipes.basicirstd_train_pipeline((256, 256),
                                                  pad_val=101)
train_dataloader = dict(batch_size=16, dataset=dict(pipeline=train_pipeline))
train_cfg = dict(val_interval=50)
log_processor = dict(by_epoch=True)
