# Iteration-based schedule for quick experiments: AdamW + poly decay.
_base_ = ['./default_hooks.py']
from serankdet import recipes  # noqa: E402

optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=1e-3, betas=(0.9, 0.999),
                   weight_decay=1e-4))
train_cfg = dict(type='IterBasedTrainLoop', max_iters=2000, val_interval=500)
log_processor = dict(by_epoch=False)
param_scheduler = recipes.poly_param_scheduler(train_cfg['max_iters'],
                                               warmup_iters=100)
default_hooks = dict(
    logger=dict(log_metric_by_epoch=False),
    checkpoint=dict(by_epoch=False, interval=500))
# irstd_common.py's batch of 8 on one GPU: the total batch the learning
# rate is set for (tools/train.py --auto-scale-lr scales it to the run's)
auto_scale_lr = dict(enable=False, base_batch_size=8)
