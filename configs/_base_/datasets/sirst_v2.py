# SIRST-V2 (Dai et al., OSCAR, TGRS 2023; github.com/YimianDai/open-sirst-v2):
# 1024 real frames of mixed sizes (135x96 up to 1918x1080 WxH, most 640x512
# or 1280x1024), 510 of them without any target. The release's "full" split:
# trainval 768 / test 256 (131 test frames without target), so the test set
# measures false alarms on large empty backgrounds as much as detection.
# Layout datasets/SIRST-V2/{trainval,test}/{images,masks}, made from the
# release by tools/dataset_converters/sirst_v2.py (--split v1 gives the 427
# SIRST frames, v1fullv2target the frames with targets).
# Trained on 512 crops (base_size 512, as SIRST); tested at native size:
# frames larger than a model takes go through it in sliding windows.
_base_ = ['./irstd_512.py']
data_root = 'datasets/SIRST-V2'
train_dataloader = val_dataloader = test_dataloader = dict(
    dataset=dict(data_root=data_root))
# gray-level mean and std of the 1024 frames, 0-255 scale
# (tools/analysis_tools/dataset_statistics.py, BasicIRSTD's definition)
img_norm_cfg = dict(mean=101.85106168421281, std=38.922209343082535)
