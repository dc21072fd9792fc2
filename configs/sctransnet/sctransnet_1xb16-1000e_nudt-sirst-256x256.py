# SCTransNet on NUDT-SIRST with the reference recipe (see the SIRST config)
# and the reference's NUDT-SIRST statistics (mean 107.81, std 33.02 on the
# 0-255 scale). Frames are 256x256: the crop only flips and transposes.
_base_ = [
    '../_base_/models/sctransnet.py',
    '../_base_/datasets/basicirstd_nudt_sirst.py',
    '../_base_/schedules/sctransnet_1000e.py', '../_base_/default_runtime.py'
]
from serankdet import recipes  # noqa: E402

model = dict(data_preprocessor=recipes.normalization(_base_.img_norm_cfg))
# SCTransNet's crop rule (no effect here: the frames are the crop size)
train_dataloader = dict(dataset=dict(
    pipeline=recipes.with_crop_rule(_base_.train_pipeline, 'redraw')))
