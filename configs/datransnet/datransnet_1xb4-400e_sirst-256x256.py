# DATransNet on SIRST (NUAA-SIRST). The reference cannot train on SIRST (its
# train.py sets the image size only for NUDT-SIRST and IRSTD-1K: NameError),
# and SIRST frames have mixed sizes (96-388 x 135-456) that do not batch.
# Here: the model is built with img_size 256 (as for NUDT-SIRST); training
# frames are zero-padded (bottom/right) to at least 256x256 and randomly
# cropped to 256x256, with no other augmentation; test frames keep their
# native size and are padded to a multiple of 32 by the data preprocessor
# (the padding is removed before scoring). Reference recipe otherwise.
_base_ = [
    '../_base_/models/datransnet.py', '../_base_/datasets/sirst.py',
    '../_base_/schedules/datransnet_400e.py', '../_base_/default_runtime.py'
]
from serankdet import recipes  # noqa: E402

crop_size = (256, 256)
train_pipeline = recipes.pipeline(
    # mmcv Pad takes size as (w, h) and never shrinks; crops are square
    dict(type='Pad', size=crop_size, pad_val=dict(img=0, seg=0)),
    dict(type='RandomCrop', crop_size=crop_size))
# the reference skips a training batch of one; 341 = 85 x 4 + 1 makes one
# per epoch, so here that rule is drop_last
train_dataloader = dict(batch_size=4, drop_last=True,
                        dataset=dict(pipeline=train_pipeline))
