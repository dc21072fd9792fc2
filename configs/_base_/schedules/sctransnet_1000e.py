# SCTransNet reference recipe (xdFai/SCTransNet train.py defaults, Adam
# branch): Adam lr 1e-3, no weight decay, linear warm-up over 10 epochs then
# cosine annealing to 1e-5 (serankdet/recipes.py), 1000 epochs, evaluation
# after every epoch from epoch 500 on (the reference keeps the epoch with
# the best test IoU).
_base_ = ['./default_hooks.py']
from serankdet import recipes  # noqa: E402

max_epochs = 1000
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='Adam', lr=1e-3, betas=(0.9, 0.999), eps=1e-8,
                   weight_decay=0.0))
param_scheduler = recipes.sctransnet_param_scheduler(max_epochs)
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs,
                 val_begin=500, val_interval=1)
log_processor = dict(by_epoch=True)
# the reference's batch of 16 on one GPU: the total batch the learning
# rate is set for (tools/train.py --auto-scale-lr scales it to the run's)
auto_scale_lr = dict(enable=False, base_batch_size=16)
