# MSHNet reference recipe (Lliu666/MSHNet main.py defaults): Adagrad lr 0.05
# (no weight decay, no lr decay), constant learning rate (no scheduler), 400
# epochs, evaluation after every epoch (the reference keeps the epoch with
# the best test IoU). Model warm-up: SetEpochHook tells the head and the
# loss the epoch (0-based) before every training epoch.
_base_ = ['./default_hooks.py']
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='Adagrad', lr=0.05, lr_decay=0.0, weight_decay=0.0,
                   initial_accumulator_value=0.0, eps=1e-10))
param_scheduler = []
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=400, val_interval=1)
log_processor = dict(by_epoch=True)
# the reference's batch of 4 on one GPU: the total batch the learning
# rate is set for (tools/train.py --auto-scale-lr scales it to the run's)
auto_scale_lr = dict(enable=False, base_batch_size=4)
