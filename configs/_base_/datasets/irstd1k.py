# IRSTD-1k (Zhang et al., ISNet, CVPR 2022): 1001 real 512x512 images,
# trainval 800 / test 201. Layout datasets/IRSTD-1k/{trainval,test}/
# {images,masks}; the original release (IRSTD1k_Img/, IRSTD1k_Label/,
# trainval.txt, test.txt) is read with
#     data_prefix=dict(img_path='IRSTD1k_Img', seg_map_path='IRSTD1k_Label'),
#     ann_file='trainval.txt'   (test.txt for the test loaders)
_base_ = ['./irstd_512.py']
data_root = 'datasets/IRSTD-1k'
train_dataloader = val_dataloader = test_dataloader = dict(
    dataset=dict(data_root=data_root))
# gray-level mean and std of the frames, 0-255 scale (BasicIRSTD's
# utils.get_img_norm_cfg): the input statistics of the models that
# standardise with their dataset's (recipes.normalization)
img_norm_cfg = dict(mean=87.4661865234375, std=39.71953201293945)
