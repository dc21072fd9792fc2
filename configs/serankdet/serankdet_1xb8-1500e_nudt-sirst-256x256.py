# SeRankDet on NUDT-SIRST (reference unetseries_serankdet_256x256_500e_nudt.py,
# which runs 1500 epochs despite its name): 256x256 crops, batch 8;
# paper IoU / nIoU 94.28 / 93.69.
_base_ = [
    '../_base_/models/serankdet.py', '../_base_/datasets/nudt_sirst.py',
    '../_base_/schedules/serankdet_1500e.py', '../_base_/default_runtime.py'
]
# the reference's build_dataset drops the last partial training batch
train_dataloader = dict(batch_size=8, drop_last=True)
auto_scale_lr = dict(base_batch_size=8)
find_unused_parameters = False
