# NUDT-SIRST (Li et al., DNANet, TIP 2023): 1327 synthesized 256x256 images,
# DNANet's 50_50 split: trainval 663 / test 664 (RGB PNGs with gray content).
# Layout: datasets/NUDT-SIRST/{trainval,test}/{images,masks}/<000001>.png.
_base_ = ['./irstd_common.py']
data_root = 'datasets/NUDT-SIRST'
train_dataloader = val_dataloader = test_dataloader = dict(
    dataset=dict(data_root=data_root))
# gray-level mean and std of the frames, 0-255 scale (BasicIRSTD's
# utils.get_img_norm_cfg): the input statistics of the models that
# standardise with their dataset's (recipes.normalization)
img_norm_cfg = dict(mean=107.80905151367188, std=33.02274703979492)
