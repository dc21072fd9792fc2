# DATransNet reference recipe (greekinRoma/DATransNet train.py): Adam 5e-4,
# no weight decay, x0.1 at epochs 200 and 300, 400 epochs, evaluation after
# every epoch (the reference keeps the epoch with the best test IoU).
# fused=True: PyTorch's one-kernel Adam, the same update up to rounding.
_base_ = ['./default_hooks.py']
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='Adam', lr=5e-4, betas=(0.9, 0.999), eps=1e-8,
                   weight_decay=0.0, fused=True))
param_scheduler = [
    dict(type='MultiStepLR', by_epoch=True, milestones=[200, 300],
         gamma=0.1, begin=0, end=400),
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=400, val_interval=1)
log_processor = dict(by_epoch=True)
# the reference's batch of 4 on one GPU: the total batch the learning
# rate is set for (tools/train.py --auto-scale-lr scales it to the run's)
auto_scale_lr = dict(enable=False, base_batch_size=4)
