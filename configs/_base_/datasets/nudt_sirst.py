# NUDT-SIRST (Li et al., DNANet, TIP 2023): 1327 synthesized 256x256 images,
# DNANet's 50_50 split: trainval 663 / test 664 (RGB PNGs with gray content).
# Layout: datasets/NUDT-SIRST/{trainval,test}/{images,masks}/<000001>.png.
_base_ = ['./irstd_common.py']
data_root = 'datasets/NUDT-SIRST'
train_dataloader = dict(dataset=dict(data_root=data_root))
val_dataloader = dict(dataset=dict(data_root=data_root))
test_dataloader = val_dataloader
