# The CPU flagship: width-8 SeRankDet (3.4 M parameters, the reference's K
# per stage) trained on SIRST (the paper's idx_427 split, 341 / 86) at
# base/crop 256 until its validation IoU stops rising: batch 4, AdamW 1e-3,
# 425 warm-up iterations (5 epochs of 85), poly decay to 10,200 iterations
# (120 epochs); the test split is scored every 425 iterations and the run
# stops early when IoU has not risen by 0.5 points over 6 validations
# (mmengine's EarlyStoppingHook). The best checkpoint by IoU is kept.
_base_ = ['./serankdet-w8_1xb4-400i_sirst-256x256.py']
from serankdet import recipes  # noqa: E402

validation_interval = 425
train_cfg = dict(max_iters=10200, val_interval=validation_interval)
param_scheduler = recipes.poly_param_scheduler(
    train_cfg['max_iters'], warmup_iters=validation_interval)
default_hooks = dict(checkpoint=dict(interval=validation_interval))
custom_hooks = [
    dict(type='NonFiniteLossHook'), dict(type='RNGStateHook'),
    dict(type='EarlyStoppingHook', monitor='irstd/IoU', rule='greater',
         min_delta=0.005, patience=6)
]
