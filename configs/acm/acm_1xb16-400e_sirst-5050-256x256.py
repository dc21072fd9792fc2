# ACM reproducing BasicIRSTD's NUAA-SIRST row: DNANet's 50/50 split (213 /
# 214), BasicIRSTD's recipe (batch 16, 256x256 crops, Adam 5e-4, x0.1 at
# epochs 200 and 300, 400 epochs = 5,600 iterations, batch soft-IoU), epoch
# 400 reported at threshold 0.5. Validation every 20 epochs draws the curve
# (BasicIRSTD tests every 50).
_base_ = [
    '../_base_/models/acm.py', '../_base_/datasets/basicirstd_sirst_5050.py',
    '../_base_/schedules/basicirstd_400e.py', '../_base_/default_runtime.py'
]
from serankdet import recipes  # noqa: E402

model = dict(data_preprocessor=recipes.normalization(_base_.img_norm_cfg))
train_cfg = dict(val_interval=20)
