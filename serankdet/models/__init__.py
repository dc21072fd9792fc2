from serankdet.utils.compat import mmcv_ops_importable

# mmseg.models imports mmcv.ops (compatibility fix 1 in utils/compat.py)
with mmcv_ops_importable():
    from .backbones import *  # noqa: F401,F403
    from .data_preprocessor import IRSTDDataPreProcessor
    from .heads import *  # noqa: F401,F403
    from .losses import *  # noqa: F401,F403
    from .necks import *  # noqa: F401,F403
    from .segmentors import *  # noqa: F401,F403

__all__ = ['IRSTDDataPreProcessor']
