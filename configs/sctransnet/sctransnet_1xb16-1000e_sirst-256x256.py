# SCTransNet on SIRST (NUAA-SIRST) with the reference recipe (train.py
# defaults): batch 16, Adam 1e-3 with 10 warm-up epochs and cosine decay,
# 1000 epochs, BCE summed over the six deep-supervision maps; 256x256 random
# crops of frames zero-padded (normalised) to at least 256, vertical and
# horizontal flips and transposition (BasicIRSTD's, on which the reference
# builds); test at native size padded to a multiple of 32; evaluation every
# epoch from epoch 500; the input standardised with the reference's SIRST
# statistics (the dataset's).
_base_ = [
    '../_base_/models/sctransnet.py', '../_base_/datasets/basicirstd_sirst.py',
    '../_base_/schedules/sctransnet_1000e.py', '../_base_/default_runtime.py'
]
from serankdet import recipes  # noqa: E402

# the input standardised with the dataset's statistics (img_norm_cfg);
# SCTransNet's crop: drawn again until it holds a target in half of the draws
model, train_dataloader = recipes.sctransnet_data(_base_)
