# The demo: U-Net baseline on the bundled synthetic IR small-target set.
_base_ = [
    '../_base_/models/unet.py', '../_base_/datasets/synthetic.py',
    '../_base_/schedules/schedule_2k.py', '../_base_/default_runtime.py'
]
train_dataloader = dict(batch_size=8)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=100),
    dict(type='PolyLR', power=0.9, eta_min=1e-5, by_epoch=False, begin=100,
         end=1500),
]
train_cfg = dict(max_iters=1500, val_interval=500)
default_hooks = dict(logger=dict(interval=50),
                     checkpoint=dict(interval=500, max_keep_ckpts=1))
