# SeRankDet on IRSTD-1k, the reference's main config
# (unetseries_serankdet_512x512_500e_irstd1k.py): 512x512 crops, batch 4,
# 500 epochs; paper IoU / nIoU 73.66 / 69.11.
_base_ = [
    '../_base_/models/serankdet.py', '../_base_/datasets/irstd1k.py',
    '../_base_/schedules/serankdet_500e.py', '../_base_/default_runtime.py'
]
# the reference's build_dataset drops the last partial training batch
train_dataloader = dict(batch_size=4, drop_last=True)
find_unused_parameters = True
