# SIRST (NUAA-SIRST) on DNANet's 50/50 split (train 213 / test 214), the
# split BasicIRSTD's NUAA-SIRST table is measured on, with BasicIRSTD's
# training recipe (basicirstd_sirst.py: batch 16, 256x256 crops, SIRST's
# statistics). Layout: datasets/SIRST-5050/{trainval,test}/{images,masks},
# written by
#     python tools/dataset_converters/sirst.py SRC datasets/SIRST-5050 \
#         --split dnanet_50_50
# from DNANet's or BasicIRSTD's NUAA-SIRST (or this toolbox's SIRST layout
# holding splits/dnanet_50_50/).
_base_ = ['./basicirstd_sirst.py']
data_root = 'datasets/SIRST-5050'
train_dataloader = dict(dataset=dict(data_root=data_root))
val_dataloader = dict(dataset=dict(data_root=data_root))
test_dataloader = val_dataloader
