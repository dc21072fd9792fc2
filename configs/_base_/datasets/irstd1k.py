# IRSTD-1k (Zhang et al., ISNet, CVPR 2022): 1001 real 512x512 images,
# trainval 800 / test 201. Layout datasets/IRSTD-1k/{trainval,test}/
# {images,masks}; the original release (IRSTD1k_Img/, IRSTD1k_Label/,
# trainval.txt, test.txt) is read with
#     data_prefix=dict(img_path='IRSTD1k_Img', seg_map_path='IRSTD1k_Label'),
#     ann_file='trainval.txt'   (test.txt for the test loaders)
_base_ = ['./irstd_512.py']
data_root = 'datasets/IRSTD-1k'
train_dataloader = dict(dataset=dict(data_root=data_root))
val_dataloader = dict(dataset=dict(data_root=data_root))
test_dataloader = val_dataloader
