# The common IRSTD settings at base size 512 (SIRST as SeRankDet trains it,
# IRSTD-1k): the same recipe with 512 crops and batch 4.
_base_ = ['./irstd_common.py']
from serankdet import recipes  # noqa: E402

base_size = 512
crop_size = (512, 512)
train_pipeline = recipes.train_pipeline(base_size, crop_size)
legacy_test_pipeline = recipes.legacy_test_pipeline(base_size)
train_dataloader = dict(batch_size=4, dataset=dict(pipeline=train_pipeline))
