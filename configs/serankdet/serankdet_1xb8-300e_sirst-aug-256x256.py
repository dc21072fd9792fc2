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
# the reference's build_dataset drops the last partial training batch
train_dataloader = dict(batch_size=8, drop_last=True)
auto_scale_lr = dict(base_batch_size=8)
find_unused_parameters = False
