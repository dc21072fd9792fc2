# IRSTDID-SKY (the sky subset of IRSTDID-800, as used by SAMSPL):
# trainval 402 / test 98. Layout: datasets/IRSTDID-SKY/{trainval,test}/
# {images,masks}. base_size 256 as SAMSPL trains it (its test protocol
# resizes to 480x480: LegacyTestResize with size=480 reproduces that).
_base_ = ['./irstd_common.py']
data_root = 'datasets/IRSTDID-SKY'
train_dataloader = val_dataloader = test_dataloader = dict(
    dataset=dict(data_root=data_root))
