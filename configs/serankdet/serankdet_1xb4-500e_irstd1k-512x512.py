# SeRankDet on IRSTD-1k, the reference's main config
# (unetseries_serankdet_512x512_500e_irstd1k.py): 512x512 crops, batch 4,
# 500 epochs; paper IoU / nIoU 73.66 / 69.11.
_base_ = [
    '../_base_/models/serankdet.py', '../_base_/datasets/irstd1k.py',
    '../_base_/schedules/serankdet_500e.py', '../_base_/default_runtime.py'
]
from serankdet import recipes  # noqa: E402

# frames read as RGB (gray replicated, colour kept) and normalised per
# channel, as the reference's PIL convert('RGB') (issue 31)
train_pipeline = recipes.with_color_type(_base_.train_pipeline, 'rgb')
test_pipeline = recipes.with_color_type(_base_.test_pipeline, 'rgb')
legacy_test_pipeline = recipes.with_color_type(_base_.legacy_test_pipeline,
                                               'rgb')
# the reference's build_dataset drops the last partial training batch
train_dataloader = dict(batch_size=4, drop_last=True,
                        dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
find_unused_parameters = True
