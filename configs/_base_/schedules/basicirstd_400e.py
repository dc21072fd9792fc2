# BasicIRSTD's schedule (XinyiYing/BasicIRSTD train.py defaults), the one
# DATransNet's reference keeps: Adam 5e-4, x0.1 at epochs 200 and 300, 400
# epochs; BasicIRSTD tests every 50 epochs and reports epoch 400 (the last
# checkpoint).
_base_ = ['./datransnet_400e.py']
train_cfg = dict(val_interval=50)
# BasicIRSTD's batch of 16 on one GPU: the total batch the learning
# rate is set for (tools/train.py --auto-scale-lr scales it to the run's)
auto_scale_lr = dict(enable=False, base_batch_size=16)
