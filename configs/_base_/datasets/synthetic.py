# The bundled synthetic IR small-target dataset (serankdet/datasets/
# synthetic.py): 200 trainval / 50 test 128x128 8-bit frames with 0-4 dim
# targets of 1-80 px on cluttered backgrounds, generated into data_root the
# first time it is used (about 3 s). targets.json beside the data lists the
# generated targets. Change synthetic_cfg to make another one (in a new
# data_root: an existing folder must match the parameters).
# The recipe is the standard one with a milder rescale range, so a small
# model learns it in minutes on a CPU.
_base_ = ['./irstd_common.py']
from serankdet import recipes  # noqa: E402

dataset_type = 'SyntheticIRSTDDataset'
data_root = 'datasets/synthetic'
synthetic_cfg = dict(num_train=200, num_test=50, img_size=(128, 128), seed=0)
base_size = 128
crop_size = (128, 128)
train_pipeline = recipes.train_pipeline(base_size, crop_size,
                                        ratio_range=(0.75, 1.5))
legacy_test_pipeline = recipes.legacy_test_pipeline(base_size)
# generation takes about a second: no worker processes needed
loader = dict(num_workers=0, persistent_workers=False)
train_dataloader = dict(
    **loader,
    dataset=dict(type=dataset_type, data_root=data_root, **synthetic_cfg,
                 pipeline=train_pipeline))
val_dataloader = dict(
    **loader,
    dataset=dict(type=dataset_type, data_root=data_root, **synthetic_cfg))
test_dataloader = val_dataloader
