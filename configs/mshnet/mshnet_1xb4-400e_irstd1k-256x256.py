# MSHNet on IRSTD-1k with the reference recipe (main.py defaults): batch 4,
# Adagrad 0.05, 400 epochs with 5 warm-up epochs, base and crop size 256
# (the 512x512 frames are trained at random scales around 256 and tested
# resized to 256x256, as the reference's loader does), evaluation after
# every epoch on the test split.
_base_ = [
    '../_base_/models/mshnet.py', '../_base_/datasets/irstd1k.py',
    '../_base_/schedules/mshnet_400e.py', '../_base_/default_runtime.py'
]
from serankdet import recipes  # noqa: E402

custom_hooks = [*_base_.custom_hooks, dict(type='SetEpochHook')]
# the warm-up epochs leave the side convs and the fusion conv without
# gradients
find_unused_parameters = True
base_size = 256
crop_size = (256, 256)
# drop_last: the reference's main.py drops the last partial training batch
(train_pipeline, test_pipeline, train_dataloader, val_dataloader,
 test_dataloader) = recipes.legacy_data(base_size, crop_size, batch_size=4,
                                        drop_last=True)
