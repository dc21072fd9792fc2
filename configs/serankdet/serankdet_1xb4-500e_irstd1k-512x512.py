# SeRankDet on IRSTD-1k, the reference's main config
# (unetseries_serankdet_512x512_500e_irstd1k.py): 512x512 crops, batch 4,
# 500 epochs; paper IoU / nIoU 73.66 / 69.11.
_base_ = [
    '../_base_/models/serankdet.py', '../_base_/datasets/irstd1k.py',
    '../_base_/schedules/serankdet_500e.py', '../_base_/default_runtime.py'
]
from serankdet import recipes  # noqa: E402

# frames read as RGB (gray replicated, colour kept) and normalised per
# channel, as the reference's PIL convert('RGB') (issue 31); batch size as
# named, the last partial training batch dropped as by the reference's
# build_dataset
(train_pipeline, test_pipeline, legacy_test_pipeline, train_dataloader,
 val_dataloader, test_dataloader) = recipes.serankdet_data(_base_, 4)
