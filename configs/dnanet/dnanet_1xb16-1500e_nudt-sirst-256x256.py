# DNANet (ResNet-18 Res-CBAM, deep supervision) on NUDT-SIRST with the
# reference recipe: base and crop size 256 with its flip / rescale / pad /
# crop / blur augmentation, batch 16 (the README's training command; the
# argparse default is 4), Adagrad 0.05 for 1500 epochs, mean soft-IoU of the
# 4 outputs, test images resized to 256x256 (a no-op for NUDT-SIRST).
# README (official weights): IoU 88.61, Pd 98.42, Fa 4.30e-6.
_base_ = [
    '../_base_/models/dnanet.py', '../_base_/datasets/nudt_sirst.py',
    '../_base_/schedules/dnanet_1500e.py', '../_base_/default_runtime.py'
]
from serankdet import recipes  # noqa: E402

test_pipeline = recipes.legacy_test_pipeline(256)
# drop_last: the reference's train.py drops the last partial training batch
train_dataloader, val_dataloader, test_dataloader = recipes.dataloaders(
    test_pipeline=test_pipeline, batch_size=16, drop_last=True)
