# SeRankDet on SIRST-AUG (reference unetseries_serankdet_256x256_500e_
# sirstaug.py, which runs 300 epochs despite its name): 256x256 crops,
# batch 8; paper IoU / nIoU 76.49 / 71.98.
_base_ = [
    '../_base_/models/serankdet.py', '../_base_/datasets/sirst_aug.py',
    '../_base_/schedules/serankdet_500e.py', '../_base_/default_runtime.py'
]
from serankdet import recipes  # noqa: E402

max_epochs = 300
train_cfg = dict(max_epochs=max_epochs)
param_scheduler = recipes.serankdet_param_scheduler(max_epochs)
# frames read as RGB (gray replicated, colour kept) and normalised per
# channel, as the reference's PIL convert('RGB') (issue 31); batch size as
# named, the last partial training batch dropped as by the reference's
# build_dataset
(train_pipeline, test_pipeline, legacy_test_pipeline, train_dataloader,
 val_dataloader, test_dataloader) = recipes.serankdet_data(_base_, 8)
auto_scale_lr = dict(base_batch_size=8)
find_unused_parameters = False
