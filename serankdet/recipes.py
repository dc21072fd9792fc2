"""The pipelines and schedules that configs build from a size or a length.

mmengine merges a text config into its bases as built dicts: a child that
sets ``base_size = 512`` does not re-render the pipeline its base built with
256, nor a scheduler list that ends at its base's epoch count. Configs call
these functions instead of writing such lists again. They return plain dicts
and lists (the built config is what the list written out would give), and
mmengine drops the imported module from the built config.

In a config, ``_base_`` comes first (mmengine reads a ``.py`` file that
imports a package before any ``_base_`` as a pure-Python config)::

    _base_ = ['./irstd_common.py']
    from serankdet import recipes  # noqa: E402

    base_size = 512
    crop_size = (512, 512)
    train_pipeline = recipes.train_pipeline(base_size, crop_size)

The data preprocessors that several model bases share are built here too
(``imagenet_data_preprocessor``, ``basicirstd_data_preprocessor``).

The data recipes of a model return several values at once (pipelines and
dataloaders, e.g. ``dataloaders``, ``uiunet_data``), which one statement of
a config unpacks; they may take the config's ``_base_`` (mmengine runs the
config with ``_base_`` bound to its merged bases)::

    (train_pipeline, test_pipeline, legacy_test_pipeline, train_dataloader,
     val_dataloader, test_dataloader) = recipes.serankdet_data(_base_, 4)

This module imports nothing, so that reading a config stays cheap.
"""
from typing import List, Optional, Sequence, Tuple


def pipeline(*transforms: dict) -> List[dict]:
    """Load the image and its mask, apply ``transforms``, pack.

    Without transforms: the native-size test pipeline (the data
    preprocessor pads to the network stride, the segmentor removes the
    padding), or training without augmentation.
    """
    return [
        dict(type='LoadIRSTDImageFromFile'),
        dict(type='LoadIRSTDAnnotations'),
        *(dict(t) for t in transforms),
        dict(type='PackIRSTDInputs'),
    ]


def train_pipeline(base_size: int,
                   crop_size: Tuple[int, int],
                   ratio_range: Tuple[float, float] = (0.5, 2.0),
                   extra: Sequence[dict] = ()) -> List[dict]:
    """The training recipe of SeRankDet/SCTransNet/BasicIRSTD.

    Horizontal flip, random long side in ``ratio_range`` x ``base_size``,
    zero padding at the bottom/right up to ``crop_size``, random crop,
    Gaussian blur, then the ``extra`` transforms. Images stay single-channel
    at their native bit depth; each model's data preprocessor scales,
    replicates channels and normalizes.
    """
    return pipeline(
        dict(type='RandomFlip', prob=0.5, direction='horizontal'),
        dict(type='RandomRescaleLongSide', base_size=base_size,
             ratio_range=ratio_range),
        # mmcv Pad takes size as (w, h); crops are square
        dict(type='Pad', size=crop_size, pad_val=dict(img=0, seg=0)),
        dict(type='RandomCrop', crop_size=crop_size),
        dict(type='RandomGaussianBlur', prob=0.5, radius_range=(0.0, 1.0)),
        *extra)


def irstd_dataloader(dataset_type: str, data_root: str, split: str,
                     pipeline: List[dict], batch_size: int,
                     shuffle: bool, test_mode: bool = False) -> dict:
    """A dataloader over ``<data_root>/<split>/{images,masks}``: four
    persistent workers, a ``DefaultSampler``; ``test_mode`` datasets never
    replace a sample that fails to load (each test image is scored exactly
    once)."""
    dataset = dict(
        type=dataset_type,
        data_root=data_root,
        data_prefix=dict(img_path=f'{split}/images',
                         seg_map_path=f'{split}/masks'))
    if test_mode:
        dataset.update(test_mode=True)
    dataset.update(pipeline=pipeline)
    return dict(
        batch_size=batch_size,
        num_workers=4,
        persistent_workers=True,
        sampler=dict(type='DefaultSampler', shuffle=shuffle),
        dataset=dataset)


def legacy_test_pipeline(size: int) -> List[dict]:
    """The references' test protocol: resize to ``size`` x ``size`` (image
    bilinear, mask nearest) and score there."""
    return pipeline(dict(type='LegacyTestResize', size=size))


def dataloaders(train_pipeline: Optional[List[dict]] = None,
                test_pipeline: Optional[List[dict]] = None,
                **train_settings) -> Tuple[dict, dict, dict]:
    """``train_dataloader, val_dataloader, test_dataloader`` of a config,
    merged into its dataset base's: training with ``train_settings``
    (``batch_size``, ``drop_last``, ...) over ``train_pipeline``, val and
    test over ``test_pipeline`` (None: the base's pipeline). One
    statement in the config sets the three::

        (train_dataloader, val_dataloader,
         test_dataloader) = recipes.dataloaders(train_pipeline, test_pipeline,
                                                batch_size=4)
    """
    train = dict(train_settings)
    val = dict()
    if train_pipeline is not None:
        train.update(dataset=dict(pipeline=train_pipeline))
    if test_pipeline is not None:
        val.update(dataset=dict(pipeline=test_pipeline))
    return train, val, val


def legacy_data(base_size: int, crop_size: Tuple[int, int],
                **train_settings
                ) -> Tuple[List[dict], List[dict], dict, dict, dict]:
    """The references' data at ``base_size`` (DNANet, MSHNet):
    ``train_pipeline, test_pipeline, train_dataloader, val_dataloader,
    test_dataloader``, training on :func:`train_pipeline` (``base_size``,
    ``crop_size``) with ``train_settings`` (see :func:`dataloaders`),
    testing on frames resized to ``base_size`` x ``base_size``
    (:func:`legacy_test_pipeline`)."""
    train = train_pipeline(base_size, crop_size)
    test = legacy_test_pipeline(base_size)
    return (train, test,
            *dataloaders(train, test, **train_settings))


def serankdet_data(base, batch_size: int) -> Tuple[
        List[dict], List[dict], List[dict], dict, dict, dict]:
    """SeRankDet's data on a dataset base (``base``: the config's
    ``_base_``): ``train_pipeline, test_pipeline, legacy_test_pipeline``,
    the base's with frames read as RGB (:func:`with_color_type`), and the
    dataloaders over them (see :func:`dataloaders`): ``batch_size``,
    ``drop_last`` as the reference's build_dataset."""
    train = with_color_type(base.train_pipeline, 'rgb')
    test = with_color_type(base.test_pipeline, 'rgb')
    legacy_test = with_color_type(base.legacy_test_pipeline, 'rgb')
    return (train, test, legacy_test,
            *dataloaders(train, test, batch_size=batch_size, drop_last=True))


def sctransnet_data(base) -> Tuple[dict, dict]:
    """SCTransNet on a BasicIRSTD dataset base (``base``: the config's
    ``_base_``): ``model, train_dataloader``, the input standardised with
    the dataset's statistics (:func:`normalization` of its
    ``img_norm_cfg``) and the base's training pipeline with SCTransNet's
    crop rule (``'redraw'``, :func:`with_crop_rule`)."""
    model = dict(data_preprocessor=normalization(base.img_norm_cfg))
    train_dataloader = dict(dataset=dict(
        pipeline=with_crop_rule(base.train_pipeline, 'redraw')))
    return model, train_dataloader


def serankdet_param_scheduler(max_epochs: int) -> List[dict]:
    """SeRankDet's learning rate, set once per epoch t (0-based)::

        t = 0: lr/5;  t = 1..5: t*lr/5  (2e-5, 2e-5, 4e-5, 6e-5, 8e-5, 1e-4)
        t > 5: lr * (1 - (t - 5) / max_epochs)**0.9

    (GrokCV/SeRankDet utils/scheduler.py), exactly, as three chained
    epoch-based schedulers.
    """
    return [
        # epoch 0 at lr/5, restored at epoch 1 where the linear warm-up starts
        dict(type='ConstantLR', factor=0.2, by_epoch=True, begin=0, end=2),
        dict(type='LinearLR', start_factor=0.2, end_factor=1.0, by_epoch=True,
             begin=1, end=6),
        dict(type='PolyLR', power=0.9, eta_min=0.0, by_epoch=True, begin=5,
             end=6 + max_epochs),
    ]


def poly_param_scheduler(max_iters: int, warmup_iters: int) -> List[dict]:
    """Linear warm-up from lr/10 over ``warmup_iters`` iterations, then poly
    decay (power 0.9) to 1e-5 at ``max_iters``."""
    return [
        dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0,
             end=warmup_iters),
        dict(type='PolyLR', power=0.9, eta_min=1e-5, by_epoch=False,
             begin=warmup_iters, end=max_iters),
    ]


def basicirstd_train_pipeline(crop_size: Tuple[int, int],
                              pad_val: float = 0,
                              crop_rule: str = 'around_pixel') -> List[dict]:
    """BasicIRSTD's training recipe (``TrainSetLoader``): pad the frame at
    the bottom/right up to ``crop_size`` with ``pad_val`` (BasicIRSTD pads
    the normalized frame with 0: give the dataset's mean gray level), a
    crop biased towards the targets in half of the draws
    (``TargetBiasedRandomCrop`` with ``crop_rule``: ``'around_pixel'``
    for BasicIRSTD, ``'redraw'`` for SCTransNet), then vertical flip,
    horizontal flip and transpose, each with probability 0.5."""
    return pipeline(
        # mmcv Pad takes size as (w, h) and never shrinks; crops are square
        dict(type='Pad', size=crop_size, pad_val=dict(img=pad_val, seg=0)),
        dict(type='TargetBiasedRandomCrop', crop_size=crop_size,
             target_prob=0.5, rule=crop_rule),
        dict(type='RandomFlip', prob=0.5, direction='vertical'),
        dict(type='RandomFlip', prob=0.5, direction='horizontal'),
        dict(type='RandomTranspose', prob=0.5))


def with_crop_rule(train_pipeline: List[dict], rule: str) -> List[dict]:
    """A copy of ``train_pipeline`` whose ``TargetBiasedRandomCrop`` uses
    ``rule`` (e.g. SCTransNet's ``'redraw'`` on a BasicIRSTD dataset
    base)."""
    return [dict(step, rule=rule)
            if step['type'] == 'TargetBiasedRandomCrop' else step
            for step in train_pipeline]


def with_hard_negatives(train_pipeline: List[dict], points_file: str,
                        hard_negative_prob: float = 0.5) -> List[dict]:
    """A copy of ``train_pipeline`` whose ``TargetBiasedRandomCrop`` is a
    ``HardNegativeRandomCrop`` with the same settings: ``hard_negative_prob``
    of the crops of a frame where the model fired are centred on a false
    alarm that ``HardNegativeMiningHook`` recorded in ``points_file``
    (add the hook to ``custom_hooks``)."""
    return [dict(step, type='HardNegativeRandomCrop', points_file=points_file,
                 hard_negative_prob=hard_negative_prob)
            if step['type'] == 'TargetBiasedRandomCrop' else step
            for step in train_pipeline]


def with_color_type(pipeline: List[dict], color_type: str) -> List[dict]:
    """A copy of ``pipeline`` whose ``LoadIRSTDImageFromFile`` loads
    ``color_type``: ``'rgb'`` for the references that read frames with
    PIL ``convert('RGB')`` (SeRankDet, SAM-SPL), ``'gray'`` back.

    With ``'rgb'`` the image pad value of mmcv's ``Pad`` is given per
    channel: a single value pads only the first channel of a colour image
    (``cv2.copyMakeBorder``), the others with 0.
    """
    rgb = color_type == 'rgb'
    steps = []
    for step in pipeline:
        if step['type'] == 'LoadIRSTDImageFromFile':
            step = dict(step, color_type=color_type)
        elif step['type'] == 'Pad' and rgb:
            pad_val = step.get('pad_val', dict(img=0))
            if not isinstance(pad_val, dict):  # mmcv: image and seg=255
                pad_val = dict(img=pad_val, seg=255)
            value = pad_val.get('img', 0)
            if not isinstance(value, (tuple, list)):
                step = dict(step, pad_val=dict(pad_val, img=(value, ) * 3))
        steps.append(step)
    return steps


def negative_ratio_sampler(negative_ratio: float) -> dict:
    """A ``NegativeRatioSampler`` drawing ``negative_ratio`` target-free
    frames per frame with a target in each epoch, replacing the base's
    sampler (``_delete_``: its ``shuffle`` is not an argument of this
    one)."""
    return dict(_delete_=True, type='NegativeRatioSampler',
                negative_ratio=negative_ratio)


def sctransnet_param_scheduler(max_epochs: int,
                               warmup_epochs: int = 10,
                               eta_min: float = 1e-5) -> List[dict]:
    """SCTransNet's learning rate (xdFai/SCTransNet ``utils.get_optimizer``:
    ``GradualWarmupScheduler(multiplier=1)`` then ``CosineAnnealingLR``),
    set once per epoch t (0-based), with w = ``warmup_epochs``::

        t = 0: 0;  t = 1..w: t*lr/w;  t = w+1: lr
        t > w: eta_min + (lr - eta_min) * (1 + cos(pi * (t - w - 1) /
               (max_epochs - w))) / 2

    Epoch 0 trains at lr * 1e-6 instead of 0: mmengine's schedulers scale
    the rate multiplicatively and cannot return from 0 (an Adam step of
    1e-9 changes nothing; the BatchNorm statistics and Adam's moments are
    updated in that epoch as in the reference).
    """
    return [
        # epoch 0 at lr * 1e-6, restored at epoch 1 where the warm-up starts
        dict(type='ConstantLR', factor=1e-6, by_epoch=True, begin=0, end=2),
        dict(type='LinearLR', start_factor=1.0 / warmup_epochs,
             end_factor=1.0, by_epoch=True, begin=1, end=warmup_epochs + 1),
        dict(type='CosineAnnealingLR', T_max=max_epochs - warmup_epochs,
             eta_min=eta_min, by_epoch=True, begin=warmup_epochs + 1,
             end=max_epochs),
    ]


def normalization(img_norm_cfg: Optional[dict],
                  in_channels: int = 1) -> dict:
    """``mean`` and ``std`` of a data preprocessor (0-1 scale, one value
    per channel) from a dataset config's ``img_norm_cfg``: the gray-level
    mean and std of its frames on the 0-255 scale. Without statistics
    (``None``, in a model base) both are None, and the data preprocessor
    refuses to build until a config gives its dataset's."""
    if img_norm_cfg is None:
        return dict(mean=None, std=None)
    return dict(mean=(img_norm_cfg['mean'] / 255, ) * in_channels,
                std=(img_norm_cfg['std'] / 255, ) * in_channels)


def basicirstd_data_preprocessor(img_norm_cfg: Optional[dict] = None
                                 ) -> dict:
    """BasicIRSTD's input: the gray frame standardised with the dataset's
    statistics (``img_norm_cfg`` of its config, see :func:`normalization`;
    None in a model base), sides padded to multiples of 32 (``PadImg``)."""
    return dict(type='IRSTDDataPreProcessor', in_channels=1,
                **normalization(img_norm_cfg), size_divisor=32)


def residual_unet_encoder(channels: Sequence[int]) -> dict:
    """The residual U-Net encoder of DATransNet and SCTransNet (``Res_block``
    stages with LeakyReLU 0.01) on a 1-channel frame, ``channels`` wide."""
    return dict(type='UNetEncoder', in_channels=1, channels=tuple(channels),
                block='residual', block_cfg=dict(negative_slope=0.01))


def imagenet_data_preprocessor(size_divisor: Optional[int] = None) -> dict:
    """The input of the references that read frames as RGB: the gray frame
    copied to 3 channels and normalised with ImageNet's mean and std; sides
    padded to multiples of ``size_divisor`` (None: any size)."""
    preprocessor = dict(type='IRSTDDataPreProcessor', in_channels=3,
                        mean=(0.485, 0.456, 0.406), std=(0.229, 0.224, 0.225))
    if size_divisor is not None:
        preprocessor.update(size_divisor=size_divisor)
    return preprocessor


def uiunet_train_pipeline(resize_size: int,
                          crop_size: Tuple[int, int]) -> List[dict]:
    """UIU-Net's training recipe (the reference train.py): resize to
    ``resize_size`` x ``resize_size`` (image bilinear, mask nearest),
    vertical flip with probability 0.5, random crop."""
    return pipeline(
        dict(type='LegacyTestResize', size=resize_size),
        dict(type='RandomFlip', prob=0.5, direction='vertical'),
        dict(type='RandomCrop', crop_size=crop_size))


def uiunet_train_dataloader(train_pipeline: List[dict]) -> dict:
    """The reference train.py's loader (over :func:`uiunet_train_pipeline`):
    batch 3 in a fixed order, ``drop_last`` (a last batch of one sample
    cannot go through the IC-A channel gate's BatchNorm on (B, C, 1, 1) in
    training); merged into the dataset base's ``train_dataloader``."""
    return dict(
        batch_size=3,
        drop_last=True,
        sampler=dict(type='DefaultSampler', shuffle=False),
        dataset=dict(pipeline=train_pipeline))


def uiunet_data(resize_size: int, crop_size: Tuple[int, int]) -> Tuple[
        int, Tuple[int, int], List[dict], List[dict], dict, dict, dict]:
    """UIU-Net's data (the reference train.py and test.py):
    ``resize_size, crop_size, train_pipeline, test_pipeline,
    train_dataloader, val_dataloader, test_dataloader``, the sizes as given
    (one statement sets them in the config too), training on
    :func:`uiunet_train_pipeline` with :func:`uiunet_train_dataloader`,
    testing on frames resized to ``resize_size`` x ``resize_size``."""
    train = uiunet_train_pipeline(resize_size, crop_size)
    test = legacy_test_pipeline(resize_size)
    _, val_dataloader, test_dataloader = dataloaders(test_pipeline=test)
    return (resize_size, crop_size, train, test,
            uiunet_train_dataloader(train), val_dataloader, test_dataloader)
