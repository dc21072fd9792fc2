# SAM-SPL reference recipe (fuyimin96/SAM-SPL training.py): Adan lr 1e-2,
# betas (0.98, 0.92, 0.99), eps 1e-8, weight decay 1e-4 on every trainable
# parameter (the frozen SAM2 trunk gets no gradient), no gradient clipping;
# cosine annealing per epoch to 1e-6 over 300 epochs, no warm-up; evaluation
# after every epoch (the reference picks its reported epoch on the test set).
_base_ = ['./default_hooks.py']
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='Adan', lr=1e-2, betas=(0.98, 0.92, 0.99), eps=1e-8,
                   weight_decay=1e-4))
param_scheduler = [
    dict(type='CosineAnnealingLR', T_max=300, eta_min=1e-6, by_epoch=True,
         begin=0, end=300),
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=300, val_interval=1)
log_processor = dict(by_epoch=False)
# the reference's batch of 12 on one GPU: the total batch the learning
# rate is set for (tools/train.py --auto-scale-lr scales it to the run's)
auto_scale_lr = dict(enable=False, base_batch_size=12)
