# UIU-Net reference recipe (danfenghong/IEEE_TIP_UIU-Net train.py): Adam
# lr 1e-3, betas (0.9, 0.999), eps 1e-8, no weight decay, constant learning
# rate (no scheduler) for 500 epochs. The reference never evaluates while
# training (it saves every 2000 iterations); here the test split is scored
# after every epoch and the best IoU is kept, as for the other models.
_base_ = ['./default_hooks.py']
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='Adam', lr=1e-3, betas=(0.9, 0.999), eps=1e-8,
                   weight_decay=0.0))
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=500, val_interval=1)
log_processor = dict(by_epoch=True)
# the reference's batch of 3 on one GPU: the total batch the learning
# rate is set for (tools/train.py --auto-scale-lr scales it to the run's)
auto_scale_lr = dict(enable=False, base_batch_size=3)
