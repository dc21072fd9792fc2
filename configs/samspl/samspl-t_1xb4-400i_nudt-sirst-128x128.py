# Short CPU experiment (not a paper setting): SAM-SPL-T on NUDT-SIRST with
# 128x128 crops holding targets, batch 4, 400 iterations of Adan 1e-3,
# soft-IoU beside the reference's BCE, scored on the first 100 test images.
# Without SAM2.1 weights (pretrained=None: random frozen trunk) the reference
# recipe (BCE only, lr 1e-2) predicts only background after 400 iterations;
# this one learns (see README.md).
_base_ = ['./samspl-t_1xb12-300e_nudt-sirst-256x256.py']
model = dict(
    backbone=dict(trunk=dict(pretrained=None)),
    decode_head=dict(loss_decode=[
        dict(type='SigmoidBCELoss'),
        dict(type='SoftIoULoss', reduction='batch')
    ]))
optim_wrapper = dict(optimizer=dict(lr=1e-3))
# the parent's flips and transpose, then crops that are not all background
# (up to 10 tries)
train_pipeline = [
    *_base_.train_pipeline[:-1],
    dict(type='RandomCrop', crop_size=(128, 128), cat_max_ratio=0.999),
    _base_.train_pipeline[-1],
]
# iteration-based: one endless shuffled stream (no pause between epochs)
train_dataloader = dict(batch_size=4, num_workers=2,
                        sampler=dict(type='InfiniteSampler', shuffle=True),
                        dataset=dict(pipeline=train_pipeline))
auto_scale_lr = dict(base_batch_size=4)
val_dataloader = dict(num_workers=2, dataset=dict(indices=100))
test_dataloader = val_dataloader
param_scheduler = [dict(type='ConstantLR', factor=1.0, by_epoch=False)]
train_cfg = dict(_delete_=True, type='IterBasedTrainLoop', max_iters=400,
                 val_interval=400)
log_processor = dict(by_epoch=False)
default_hooks = dict(checkpoint=dict(by_epoch=False, interval=400),
                     logger=dict(interval=50))
