# DATransNet on IRSTD-1k with the reference recipe (train_7.py): the model is
# built with img_size 512 (the gradient attention's 1/sqrt(area) constants),
# batch 4, Adam 5e-4, 400 epochs, batch soft-IoU, no augmentation, native
# 512x512 train and test images, evaluation every epoch.
_base_ = [
    '../_base_/models/datransnet.py', '../_base_/datasets/irstd1k.py',
    '../_base_/schedules/datransnet_400e.py', '../_base_/default_runtime.py'
]
from serankdet import recipes  # noqa: E402

model = dict(neck=dict(img_size=512))
# The reference loads train images as they are (its cv2.resize to 512x512 is
# a no-op for IRSTD-1k): no flip, crop, rescale or blur.
train_pipeline = recipes.pipeline()
train_dataloader = dict(batch_size=4, dataset=dict(pipeline=train_pipeline))
