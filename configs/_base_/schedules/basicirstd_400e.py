# BasicIRSTD's schedule (XinyiYing/BasicIRSTD train.py defaults), the one
# DATransNet's reference keeps: Adam 5e-4, x0.1 at epochs 200 and 300, 400
# epochs; BasicIRSTD tests every 50 epochs and reports epoch 400 (the last
# checkpoint).
_base_ = ['./datransnet_400e.py']
train_cfg = dict(val_interval=50)
