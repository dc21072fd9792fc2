# DATransNet reference recipe (greekinRoma/DATransNet train.py): Adam 5e-4,
# no weight decay, x0.1 at epochs 200 and 300, 400 epochs, evaluation after
# every epoch (the reference keeps the epoch with the best test IoU).
# fused=True: PyTorch's one-kernel Adam, the same update up to rounding.
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='Adam', lr=5e-4, betas=(0.9, 0.999), eps=1e-8,
                   weight_decay=0.0, fused=True))
param_scheduler = [
    dict(type='MultiStepLR', by_epoch=True, milestones=[200, 300],
         gamma=0.1, begin=0, end=400),
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=400, val_interval=1)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50, log_metric_by_epoch=True),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(type='AtomicCheckpointHook', by_epoch=True, interval=10,
                    max_keep_ckpts=2, save_best='irstd/IoU', rule='greater'),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    visualization=dict(type='IRSTDVisualizationHook', draw=False))
