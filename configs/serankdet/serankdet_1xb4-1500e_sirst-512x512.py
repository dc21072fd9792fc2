# SeRankDet on SIRST (NUAA-SIRST; reference unetseries_serankdet_512x512_800e_
# nuaa.py, which runs 1500 epochs despite its name): base/crop 512, batch 4;
# paper IoU / nIoU 81.27 / 79.66.
_base_ = [
    '../_base_/models/serankdet.py', '../_base_/datasets/sirst.py',
    '../_base_/schedules/serankdet_1500e.py', '../_base_/default_runtime.py'
]
# the reference's build_dataset drops the last partial training batch
train_dataloader = dict(batch_size=4, drop_last=True)
find_unused_parameters = True
