# Common IRSTD dataset settings: the layout <data_root>/{trainval,test}/
# {images,masks}, the reference training recipe at base size 256, native-size
# testing, and the metric. Each dataset config inherits this file and sets
# its data_root in the three dataloaders (the 512 ones inherit irstd_512.py).
#
# data_root is relative to the working directory (the repository root).
# Either link the data there, e.g.
#     ln -s ../../shared/datasets/NUDT-SIRST datasets/NUDT-SIRST
# or override the three dataloaders (a plain `data_root=` override does not
# reach them, mmengine substitutes the variable when a file is read):
#     --cfg-options train_dataloader.dataset.data_root=/path/to/X \
#         val_dataloader.dataset.data_root=/path/to/X \
#         test_dataloader.dataset.data_root=/path/to/X
# (_base_ before the import keeps this a text config, see configs/README.md)
_base_ = []
from serankdet import recipes  # noqa: E402

dataset_type = 'IRSTDDataset'
data_root = 'datasets/custom'
base_size = 256
crop_size = (256, 256)
# SeRankDet/SCTransNet/BasicIRSTD's training recipe: flip, random long side
# in [0.5, 2] x base_size, zero-pad bottom/right up to the crop, random crop,
# Gaussian blur (serankdet/recipes.py). A config that changes base_size or
# crop_size calls recipes.train_pipeline again.
train_pipeline = recipes.train_pipeline(base_size, crop_size)
# Default protocol: test at native size (the preprocessor pads to the
# network stride, the segmentor removes the padding).
test_pipeline = recipes.pipeline()
# The references' protocol: resize to base_size x base_size and score there
# (use with test_dataloader=dict(dataset=dict(
#     pipeline={{_base_.legacy_test_pipeline}}))).
legacy_test_pipeline = recipes.legacy_test_pipeline(base_size)
# <data_root>/{trainval,test}/{images,masks}, four workers each; the test
# split in test mode (each test image scored exactly once)
train_dataloader = recipes.irstd_dataloader(
    dataset_type, data_root, 'trainval', train_pipeline, batch_size=8,
    shuffle=True)
val_dataloader = recipes.irstd_dataloader(
    dataset_type, data_root, 'test', test_pipeline, batch_size=1,
    shuffle=False, test_mode=True)
test_dataloader = val_dataloader
val_evaluator = dict(type='IRSTDMetric')
test_evaluator = val_evaluator
