# Your own data. Put images and binary masks (any non-zero pixel = target)
# with the same file stem in
#     datasets/custom/trainval/images/*.{png,bmp,jpg,tif,...}
#     datasets/custom/trainval/masks/*.png
#     datasets/custom/test/images, datasets/custom/test/masks
# Images may be 8/16-bit, gray or colour (read as gray). With one image
# folder and split files instead, set in each dataloader's dataset
#     data_prefix=dict(img_path='images', seg_map_path='masks'),
#     ann_file='train.txt'   (one stem per line, relative to data_root)
# For inference without masks drop seg_map_path. on_invalid='skip' decodes
# every file while indexing and drops images without mask, unreadable or
# truncated files and size mismatches, with one warning listing them.
_base_ = ['./irstd_common.py']
data_root = 'datasets/custom'
train_dataloader = val_dataloader = test_dataloader = dict(
    dataset=dict(data_root=data_root))
