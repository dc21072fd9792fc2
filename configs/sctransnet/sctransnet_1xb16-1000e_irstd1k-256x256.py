# SCTransNet on IRSTD-1k with the reference recipe (see the SIRST config)
# and the reference's IRSTD-1K statistics (mean 87.47, std 39.72 on the
# 0-255 scale): trained on random 256x256 crops of the 512x512 frames,
# tested on whole frames.
_base_ = [
    '../_base_/models/sctransnet.py',
    '../_base_/datasets/basicirstd_irstd1k.py',
    '../_base_/schedules/sctransnet_1000e.py', '../_base_/default_runtime.py'
]
from serankdet import recipes  # noqa: E402

# the input standardised with the dataset's statistics (img_norm_cfg);
# SCTransNet's crop: drawn again until it holds a target in half of the draws
model, train_dataloader = recipes.sctransnet_data(_base_)
