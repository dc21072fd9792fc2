# Iteration-based schedule for quick experiments: AdamW + poly decay.
_base_ = ['./default_hooks.py']
from serankdet import recipes  # noqa: E402

optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=1e-3, betas=(0.9, 0.999),
                   weight_decay=1e-4))
train_cfg = dict(type='IterBasedTrainLoop', max_iters=2000, val_interval=500)
param_scheduler = recipes.poly_param_scheduler(train_cfg['max_iters'],
                                               warmup_iters=100)
default_hooks = dict(
    logger=dict(log_metric_by_epoch=False),
    checkpoint=dict(by_epoch=False, interval=500))
