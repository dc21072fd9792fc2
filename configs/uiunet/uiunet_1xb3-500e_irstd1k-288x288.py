# UIU-Net on IRSTD-1k with the recipe of uiunet_1xb3-500e_sirst-288x288.py
# (the reference train.py / test.py): resize to 320x320, vertical flip,
# 288x288 crops, batch 3 in a fixed order, Adam 1e-3 for 500 epochs, test at
# 320x320. The paper does not report IRSTD-1k; this config gives the
# comparison later papers make (see README.md).
_base_ = [
    '../_base_/models/uiunet.py', '../_base_/datasets/irstd1k.py',
    '../_base_/schedules/uiunet_500e.py', '../_base_/default_runtime.py'
]
from serankdet import recipes  # noqa: E402

(resize_size, crop_size, train_pipeline, test_pipeline, train_dataloader,
 val_dataloader, test_dataloader) = recipes.uiunet_data(320, (288, 288))
