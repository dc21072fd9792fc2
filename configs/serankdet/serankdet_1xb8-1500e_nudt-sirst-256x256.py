# SeRankDet on NUDT-SIRST (reference unetseries_serankdet_256x256_500e_nudt.py,
# which runs 1500 epochs despite its name): 256x256 crops, batch 8;
# paper IoU / nIoU 94.28 / 93.69.
_base_ = [
    '../_base_/models/serankdet.py', '../_base_/datasets/nudt_sirst.py',
    '../_base_/schedules/serankdet_1500e.py', '../_base_/default_runtime.py'
]
from serankdet import recipes  # noqa: E402

# frames read as RGB (gray replicated, colour kept) and normalised per
# channel, as the reference's PIL convert('RGB') (issue 31); batch size as
# named, the last partial training batch dropped as by the reference's
# build_dataset
(train_pipeline, test_pipeline, legacy_test_pipeline, train_dataloader,
 val_dataloader, test_dataloader) = recipes.serankdet_data(_base_, 8)
auto_scale_lr = dict(base_batch_size=8)
find_unused_parameters = False
