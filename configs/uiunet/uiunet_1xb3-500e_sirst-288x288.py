# UIU-Net on SIRST (NUAA-SIRST, idx_427 split: trainval 341 / test 86), the
# paper's real dataset, with the recipe of the reference train.py and
# test.py: frames resized to 320x320, random vertical flip, random 288x288
# crop; batch 3 in a fixed order (the reference's DataLoader has
# shuffle=False, drop_last=True); Adam 1e-3 constant, 500 epochs, BCE on
# all seven outputs; test frames resized to 320x320 and scored there.
# (The reference train.py still points at the DUTS-TR saliency folders of
# U^2-Net; see README.md.)
_base_ = [
    '../_base_/models/uiunet.py', '../_base_/datasets/sirst.py',
    '../_base_/schedules/uiunet_500e.py', '../_base_/default_runtime.py'
]
from serankdet import recipes  # noqa: E402

(resize_size, crop_size, train_pipeline, test_pipeline, train_dataloader,
 val_dataloader, test_dataloader) = recipes.uiunet_data(320, (288, 288))
