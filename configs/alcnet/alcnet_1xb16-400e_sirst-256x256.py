# ALCNet with BasicIRSTD's recipe (train.py defaults, see the dataset and
# schedule bases): batch 16, 256x256 crops, Adam 5e-4, x0.1 at epochs 200 and
# 300, 400 epochs, batch soft-IoU, test at native size padded to a multiple
# of 32, threshold 0.5, evaluation every 50 epochs (BasicIRSTD reports epoch
# 400, the last checkpoint).
# Data: SIRST (NUAA-SIRST), standardised with its BasicIRSTD statistics. Split: this repository's SIRST layout is the idx_427 split
# (trainval 341 / test 86); BasicIRSTD's NUAA-SIRST numbers use DNANet's
# 50/50 split (213 / 214): see configs/alcnet/README.md.
_base_ = [
    '../_base_/models/alcnet.py', '../_base_/datasets/basicirstd_sirst.py',
    '../_base_/schedules/basicirstd_400e.py', '../_base_/default_runtime.py'
]
from serankdet import recipes  # noqa: E402

model = dict(data_preprocessor=recipes.normalization(_base_.img_norm_cfg))
