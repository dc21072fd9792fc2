# The demo: U-Net baseline on the bundled synthetic IR small-target set,
# 800 iterations of batch 8 (a few minutes on 2 CPU cores).
_base_ = [
    '../_base_/models/unet.py', '../_base_/datasets/synthetic.py',
    '../_base_/schedules/schedule_2k.py', '../_base_/default_runtime.py'
]
train_dataloader = dict(batch_size=8)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=50),
    dict(type='PolyLR', power=0.9, eta_min=1e-5, by_epoch=False, begin=50,
         end=800),
]
optim_wrapper = dict(optimizer=dict(lr=3e-3))
train_cfg = dict(max_iters=800, val_interval=400)
default_hooks = dict(logger=dict(interval=50),
                     checkpoint=dict(interval=400, max_keep_ckpts=1))
