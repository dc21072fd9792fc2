"""The data preprocessors and pipelines that ``serankdet.recipes`` builds for
several configs."""

from serankdet import recipes


def test_basicirstd_data_preprocessor_standardises_with_the_dataset_stats():
    assert recipes.basicirstd_data_preprocessor(
        dict(mean=87.4661865234375, std=39.71953201293945)) == dict(
        type='IRSTDDataPreProcessor', in_channels=1,
        mean=(87.4661865234375 / 255, ), std=(39.71953201293945 / 255, ),
        size_divisor=32)


def test_normalization_repeats_per_channel_and_leaves_none_unset():
    assert recipes.normalization(dict(mean=51, std=102), 3) == dict(
        mean=(0.2, 0.2, 0.2), std=(0.4, 0.4, 0.4))
    # a model base: no statistics of its own
    assert recipes.basicirstd_data_preprocessor() == dict(
        type='IRSTDDataPreProcessor', in_channels=1, mean=None, std=None,
        size_divisor=32)


def test_imagenet_data_preprocessor_pads_only_when_asked():
    any_size = recipes.imagenet_data_preprocessor()
    assert any_size == dict(type='IRSTDDataPreProcessor', in_channels=3,
                            mean=(0.485, 0.456, 0.406),
                            std=(0.229, 0.224, 0.225))
    assert recipes.imagenet_data_preprocessor(16) == dict(any_size,
                                                          size_divisor=16)


def test_uiunet_train_pipeline_resizes_flips_and_crops():
    assert recipes.uiunet_train_pipeline(320, (288, 288))[2:-1] == [
        dict(type='LegacyTestResize', size=320),
        dict(type='RandomFlip', prob=0.5, direction='vertical'),
        dict(type='RandomCrop', crop_size=(288, 288)),
    ]
