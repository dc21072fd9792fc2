# NUDT-SIRST-Sea (maritime scenes, used by SAMSPL): trainval 4961 / test 847.
# Layout: datasets/NUDT-SIRST-Sea/{trainval,test}/{images,masks}.
# base_size 256 as SAMSPL trains it.
_base_ = ['./irstd_common.py']
data_root = 'datasets/NUDT-SIRST-Sea'
train_dataloader = val_dataloader = test_dataloader = dict(
    dataset=dict(data_root=data_root))
