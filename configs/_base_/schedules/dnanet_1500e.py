# DNANet reference recipe (YeRen123455/Infrared-Small-Target-Detection
# train.py, parse_args_train.py): Adagrad lr 0.05, no weight decay, 1500
# epochs, evaluation on the test split after every epoch (the reference
# keeps the epoch with the best test IoU). The reference builds
# CosineAnnealingLR(T_max=1500, eta_min=1e-5) and steps it once, before the
# first epoch, and never again: every epoch trains at
#     1e-5 + (0.05 - 1e-5) * (1 + cos(pi / 1500)) / 2 = 0.049999945179850715,
# written here as a constant learning rate (no scheduler).
_base_ = ['./default_hooks.py']
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='Adagrad', lr=0.049999945179850715, lr_decay=0,
                   weight_decay=0, initial_accumulator_value=0, eps=1e-10))
param_scheduler = []
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=1500, val_interval=1)
log_processor = dict(by_epoch=True)
# the reference's batch of 16 on one GPU: the total batch the learning
# rate is set for (tools/train.py --auto-scale-lr scales it to the run's)
auto_scale_lr = dict(enable=False, base_batch_size=16)
