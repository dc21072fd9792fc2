# serankdet-w8_1xb4-10k_sirst-v2-negatives-256x256.py with hard-negative
# mining: at every validation (425 iterations) HardNegativeMiningHook
# predicts 64 of the target-free training frames in turn (native size) and
# records the centroids of what fires in hard_negatives_file; half of the
# crops of a frame listed there are centred on one of its false alarms
# (HardNegativeRandomCrop, recipes.with_hard_negatives). The file is in the
# default work dir: with --work-dir elsewhere it stays there, set
# hard_negatives_file to move it (two runs of this config at once need two
# files).
_base_ = ['./serankdet-w8_1xb4-10k_sirst-v2-negatives-256x256.py']
from serankdet import recipes  # noqa: E402

hard_negatives_file = ('work_dirs/{{fileBasenameNoExtension}}/'
                       'hard_negatives.json')
train_pipeline = recipes.with_hard_negatives(
    _base_.train_pipeline, hard_negatives_file, hard_negative_prob=0.5)
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
custom_hooks = [
    *_base_.custom_hooks,
    dict(type='HardNegativeMiningHook', interval=_base_.validation_interval,
         max_frames=64)
]
