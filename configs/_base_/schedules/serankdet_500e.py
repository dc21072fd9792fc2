# SeRankDet reference recipe (GrokCV/SeRankDet configs + utils/scheduler.py):
# AdamW lr 1e-4, weight decay 0.01 on every parameter, LR set once per epoch:
# lr/5 at epoch 0, linear warm-up to lr at epoch 5, then poly decay to 0
# (serankdet/recipes.py). A config with other epochs sets max_epochs, then
# train_cfg and param_scheduler from it.
_base_ = ['./default_hooks.py']
from serankdet import recipes  # noqa: E402

max_epochs = 500
# fused=True: PyTorch's one-kernel AdamW (CPU and GPU), the same update up to
# rounding; its step on SeRankDet's 109 M parameters is 7x faster on CPU.
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=1e-4, betas=(0.9, 0.999),
                   weight_decay=0.01, fused=True))
param_scheduler = recipes.serankdet_param_scheduler(max_epochs)
# the test split is evaluated after every epoch, as the reference does
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs,
                 val_interval=1)
log_processor = dict(by_epoch=True)
# last checkpoint every epoch plus the best test IoU (the reference's
# last.pth.tar / best_mIoU.pth.tar)
default_hooks = dict(checkpoint=dict(interval=1, max_keep_ckpts=1))
# the reference's batch of 4 on one GPU (configs with batch 8 say so):
# the total batch the learning rate is set for (tools/train.py
# --auto-scale-lr scales it to the run's)
auto_scale_lr = dict(enable=False, base_batch_size=4)
# the reference's 512x512 configs (IRSTD-1k, SIRST; batch 4) wrap the model
# in DDP with find_unused_parameters, its 256x256 ones (batch 8) without:
# every parameter is used, so it only costs time
find_unused_parameters = True
