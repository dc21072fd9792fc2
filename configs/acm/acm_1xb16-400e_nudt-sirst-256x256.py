# ACM on NUDT-SIRST with BasicIRSTD's recipe (train.py defaults): batch 16,
# 256x256 crops (pad, random crop, vertical/horizontal flip, transpose), Adam
# 5e-4, x0.1 at epochs 200 and 300, 400 epochs, batch soft-IoU, test at native
# size padded to a multiple of 32, threshold 0.5. BasicIRSTD tests every 50
# epochs and reports epoch 400 (the last checkpoint).
_base_ = [
    '../_base_/models/acm.py', '../_base_/datasets/nudt_sirst.py',
    '../_base_/schedules/datransnet_400e.py', '../_base_/default_runtime.py'
]
from serankdet import recipes  # noqa: E402

# BasicIRSTD's NUDT-SIRST statistics (utils.get_img_norm_cfg, gray levels);
# padding with the mean gray level.
model = dict(
    data_preprocessor=dict(mean=(107.80905151367188 / 255, ),
                           std=(33.02274703979492 / 255, )))
train_pipeline = recipes.basicirstd_train_pipeline((256, 256),
                                                  pad_val=108)
train_dataloader = dict(batch_size=16, dataset=dict(pipeline=train_pipeline))
train_cfg = dict(val_interval=50)
log_processor = dict(by_epoch=True)
