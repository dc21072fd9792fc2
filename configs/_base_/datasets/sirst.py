# SIRST (a.k.a. NUAA-SIRST; Dai et al., WACV 2021), the authors' "idx_427"
# split, used by SeRankDet: trainval 341 / test 86 images of mixed sizes
# (96-388 x 135-456; gray, RGB, RGBA and palette PNGs, read as gray).
# DNANet and BasicIRSTD use DNANet's 50/50 split instead (213 / 214): convert
# with tools/dataset_converters/sirst.py --split dnanet_50_50.
# Layout: datasets/SIRST/{trainval,test}/{images,masks}/Misc_<n>.png.
# base_size 512 as in SeRankDet's NUAA config (BasicIRSTD/DNANet use 256).
_base_ = ['./irstd_512.py']
data_root = 'datasets/SIRST'
train_dataloader = dict(dataset=dict(data_root=data_root))
val_dataloader = dict(dataset=dict(data_root=data_root))
test_dataloader = val_dataloader
