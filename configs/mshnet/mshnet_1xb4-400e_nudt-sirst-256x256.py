# MSHNet on NUDT-SIRST with the reference recipe (main.py defaults): batch 4,
# Adagrad 0.05, 400 epochs with 5 warm-up epochs, base and crop size 256,
# test at 256x256 (the native size), evaluation after every epoch on the test
# split.
_base_ = [
    '../_base_/models/mshnet.py', '../_base_/datasets/nudt_sirst.py',
    '../_base_/schedules/mshnet_400e.py', '../_base_/default_runtime.py'
]
from serankdet import recipes  # noqa: E402

custom_hooks = [*_base_.custom_hooks, dict(type='SetEpochHook')]
# the warm-up epochs leave the side convs and the fusion conv without
# gradients
find_unused_parameters = True
test_pipeline = recipes.legacy_test_pipeline(256)
# drop_last: the reference's main.py drops the last partial training batch
train_dataloader, val_dataloader, test_dataloader = recipes.dataloaders(
    test_pipeline=test_pipeline, batch_size=4, drop_last=True)
