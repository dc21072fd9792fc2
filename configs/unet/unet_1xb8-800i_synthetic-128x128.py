# The demo: U-Net baseline on the bundled synthetic IR small-target set,
# 800 iterations of batch 8 (a few minutes on 2 CPU cores).
_base_ = [
    '../_base_/models/unet.py', '../_base_/datasets/synthetic.py',
    '../_base_/schedules/schedule_2k.py', '../_base_/default_runtime.py'
]
from serankdet import recipes  # noqa: E402

# iteration-based: one endless shuffled stream (no pause between epochs)
train_dataloader = dict(batch_size=8,
                        sampler=dict(type='InfiniteSampler', shuffle=True))
optim_wrapper = dict(optimizer=dict(lr=3e-3))
train_cfg = dict(max_iters=800, val_interval=400)
param_scheduler = recipes.poly_param_scheduler(train_cfg['max_iters'],
                                               warmup_iters=50)
default_hooks = dict(logger=dict(interval=50),
                     checkpoint=dict(interval=400, max_keep_ckpts=1))
