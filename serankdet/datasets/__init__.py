from serankdet.utils.compat import mmcv_ops_importable

# mmseg.datasets imports mmcv.ops (compatibility fix 1 in utils/compat.py)
with mmcv_ops_importable():
    from .image_io import IMG_EXTENSIONS, InvalidSampleError
    from .irstd import IRSTDDataset
    from .samplers import NegativeRatioSampler, target_free_flags
    from .synthetic import (SyntheticIRSTDDataset, ensure_synthetic_dataset,
                            load_synthetic_targets, make_synthetic_sample,
                            write_synthetic_dataset)
    from .transforms import *  # noqa: F401,F403

__all__ = [
    'IMG_EXTENSIONS', 'InvalidSampleError', 'IRSTDDataset',
    'NegativeRatioSampler', 'target_free_flags',
    'SyntheticIRSTDDataset', 'ensure_synthetic_dataset',
    'load_synthetic_targets', 'make_synthetic_sample',
    'write_synthetic_dataset'
]
