# SeRankDet on SIRST (NUAA-SIRST; reference unetseries_serankdet_512x512_800e_
# nuaa.py, which runs 1500 epochs despite its name): base/crop 512, batch 4;
# paper IoU / nIoU 81.27 / 79.66.
_base_ = [
    '../_base_/models/serankdet.py', '../_base_/datasets/sirst.py',
    '../_base_/schedules/serankdet_1500e.py', '../_base_/default_runtime.py'
]
from serankdet import recipes  # noqa: E402

# frames read as RGB (gray replicated, colour kept) and normalised per
# channel, as the reference's PIL convert('RGB') (issue 31); batch size as
# named, the last partial training batch dropped as by the reference's
# build_dataset
(train_pipeline, test_pipeline, legacy_test_pipeline, train_dataloader,
 val_dataloader, test_dataloader) = recipes.serankdet_data(_base_, 4)
