# DATransNet on NUDT-SIRST with the reference recipe (train.py defaults):
# img_size 256, batch 4, Adam 5e-4, 400 epochs, batch soft-IoU, no
# augmentation, test at native size (256x256), evaluation every epoch.
_base_ = [
    '../_base_/models/datransnet.py', '../_base_/datasets/nudt_sirst.py',
    '../_base_/schedules/datransnet_400e.py', '../_base_/default_runtime.py'
]
from serankdet import recipes  # noqa: E402

# The reference loads train images as they are (its cv2.resize to 256x256 is
# a no-op for NUDT-SIRST): no flip, crop, rescale or blur.
train_pipeline = recipes.pipeline()
train_dataloader = dict(batch_size=4, dataset=dict(pipeline=train_pipeline))
