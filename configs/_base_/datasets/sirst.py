# SIRST (a.k.a. NUAA-SIRST; Dai et al., WACV 2021), the authors' "idx_427"
# split, used by SeRankDet: trainval 341 / test 86 images of mixed sizes
# (96-388 x 135-456; gray, RGB, RGBA and palette PNGs, read as gray; the
# SeRankDet configs read them as RGB, recipes.with_color_type).
# DNANet and BasicIRSTD use DNANet's 50/50 split instead (213 / 214): convert
# with tools/dataset_converters/sirst.py --split dnanet_50_50.
# Layout: datasets/SIRST/{trainval,test}/{images,masks}/Misc_<n>.png.
# base_size 512 as in SeRankDet's NUAA config (BasicIRSTD/DNANet use 256).
_base_ = ['./irstd_512.py']
data_root = 'datasets/SIRST'
train_dataloader = val_dataloader = test_dataloader = dict(
    dataset=dict(data_root=data_root))
# gray-level mean and std of the frames, 0-255 scale (BasicIRSTD's
# utils.get_img_norm_cfg): the input statistics of the models that
# standardise with their dataset's (recipes.normalization)
img_norm_cfg = dict(mean=101.06385040283203, std=34.619606018066406)
