# SCTransNet on NUDT-SIRST with the reference recipe (see the SIRST config)
# and the reference's NUDT-SIRST statistics (mean 107.81, std 33.02 on the
# 0-255 scale). Frames are 256x256: the crop only flips and transposes.
_base_ = [
    '../_base_/models/sctransnet.py',
    '../_base_/datasets/basicirstd_nudt_sirst.py',
    '../_base_/schedules/sctransnet_1000e.py', '../_base_/default_runtime.py'
]
from serankdet import recipes  # noqa: E402

# the input standardised with the dataset's statistics (img_norm_cfg);
# SCTransNet's crop rule (no effect here: the frames are the crop size)
model, train_dataloader = recipes.sctransnet_data(_base_)
