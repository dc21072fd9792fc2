# ACM on SIRST-V2 trained with its target-free frames (issue 28): BasicIRSTD's
# recipe and schedule as acm_1xb16-400e_sirst-256x256.py (batch 16, Adam
# 5e-4, x0.1 at epochs 200 and 300, 400 epochs), with 256x256 crops from
# whole frames at native resolution and half as many target-free frames as
# frames with targets in each epoch (_base_/datasets/
# basicirstd_sirst_v2_negatives.py). The batch soft IoU saturates on a batch
# of target-free crops (docs/empty_crops.md): empty_weight adds the mean
# probability of each target-free crop. Tested at native size, where
# SIRST-V2's 131 target-free test frames count in Fa.
_base_ = [
    '../_base_/models/acm.py',
    '../_base_/datasets/basicirstd_sirst_v2_negatives.py',
    '../_base_/schedules/basicirstd_400e.py', '../_base_/default_runtime.py'
]
from serankdet import recipes  # noqa: E402

model = dict(
    data_preprocessor=recipes.normalization(_base_.img_norm_cfg),
    decode_head=dict(loss_decode=dict(
        type='SoftIoULoss', reduction='batch', empty_weight=1.0)))
