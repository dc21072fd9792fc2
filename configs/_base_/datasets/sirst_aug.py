# SIRST-AUG (Zhang et al., AGPCNet): 256x256 images, trainval 8525 / test 545.
# Layout: datasets/SIRST-AUG/{trainval,test}/{images,masks}.
_base_ = ['./irstd_common.py']
data_root = 'datasets/SIRST-AUG'
train_dataloader = val_dataloader = test_dataloader = dict(
    dataset=dict(data_root=data_root))
