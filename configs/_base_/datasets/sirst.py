# SIRST (a.k.a. NUAA-SIRST; Dai et al., WACV 2021), the "idx_427" split used by
# SeRankDet, BasicIRSTD and most later work: trainval 341 / test 86 images of
# mixed sizes (96-388 x 135-456; gray, RGB, RGBA and palette PNGs, read as
# gray). Layout: datasets/SIRST/{trainval,test}/{images,masks}/Misc_<n>.png.
# The other published splits are in splits/ of the shared copy: select one
# with data_prefix=dict(img_path=..., seg_map_path=...) and ann_file.
# base_size 512 as in SeRankDet's NUAA config (BasicIRSTD/DNANet use 256).
_base_ = ['./irstd_512.py']
data_root = 'datasets/SIRST'
train_dataloader = dict(dataset=dict(data_root=data_root))
val_dataloader = dict(dataset=dict(data_root=data_root))
test_dataloader = val_dataloader
