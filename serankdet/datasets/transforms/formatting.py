"""Packing samples for the model."""
from mmseg.datasets.transforms import PackSegInputs

from serankdet.registry import TRANSFORMS


@TRANSFORMS.register_module()
class PackIRSTDInputs(PackSegInputs):
    """:class:`mmseg.datasets.transforms.PackSegInputs` that also carries
    ``img_max_value`` (read by the data preprocessor to scale to [0, 1]).

    Gives ``inputs`` (1, H, W) for a gray ``img`` (H, W) or (3, H, W) for
    an RGB ``img`` (H, W, 3), channels in the order loaded, in the image's
    native dtype, and a ``SegDataSample`` with ``gt_sem_seg`` (1, H, W)
    int64 when a mask was loaded.
    """

    def __init__(self,
                 meta_keys=('img_path', 'seg_map_path', 'ori_shape',
                            'img_shape', 'pad_shape', 'scale_factor', 'flip',
                            'flip_direction', 'reduce_zero_label',
                            'img_max_value')):
        super().__init__(meta_keys=meta_keys)
