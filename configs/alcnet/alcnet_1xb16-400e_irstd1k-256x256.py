# ALCNet on IRSTD-1k with BasicIRSTD's recipe (train.py defaults): batch 16,
# 256x256 crops (pad, random crop, vertical/horizontal flip, transpose), Adam
# 5e-4, x0.1 at epochs 200 and 300, 400 epochs, batch soft-IoU, test at native
# size padded to a multiple of 32, threshold 0.5. BasicIRSTD tests every 50
# epochs and reports epoch 400 (the last checkpoint).
# IRSTD-1k frames are 512x512: trained on 256x256 crops, tested whole.
_base_ = [
    '../_base_/models/alcnet.py', '../_base_/datasets/irstd1k.py',
    '../_base_/schedules/datransnet_400e.py', '../_base_/default_runtime.py'
]
from serankdet import recipes  # noqa: E402

# BasicIRSTD's IRSTD-1K statistics (utils.get_img_norm_cfg, gray levels);
# padding with the mean gray level.
model = dict(
    data_preprocessor=dict(mean=(87.4661865234375 / 255, ),
                           std=(39.71953201293945 / 255, )))
train_pipeline = recipes.basicirstd_train_pipeline((256, 256),
                                                  pad_val=87)
train_dataloader = dict(batch_size=16, dataset=dict(pipeline=train_pipeline))
train_cfg = dict(val_interval=50)
log_processor = dict(by_epoch=True)
