"""The data preprocessors, pipelines and dataloaders that ``serankdet.recipes``
builds for several configs."""

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


def test_dataloaders_give_train_settings_and_one_test_loader_twice():
    train, val, test = recipes.dataloaders(['train'], ['test'], batch_size=4,
                                           drop_last=True)
    assert train == dict(batch_size=4, drop_last=True,
                         dataset=dict(pipeline=['train']))
    assert val == dict(dataset=dict(pipeline=['test']))
    # test_dataloader = val_dataloader, as the configs wrote it
    assert test is val
    # without a pipeline the dataset base's stays
    train, val, _ = recipes.dataloaders(test_pipeline=['test'], batch_size=16)
    assert train == dict(batch_size=16)
    assert recipes.dataloaders() == (dict(), dict(), dict())


def test_legacy_data_trains_at_base_size_and_tests_resized():
    (train_pipeline, test_pipeline, train, val,
     test) = recipes.legacy_data(256, (256, 256), batch_size=4, drop_last=True)
    assert train_pipeline == recipes.train_pipeline(256, (256, 256))
    assert test_pipeline == recipes.legacy_test_pipeline(256)
    assert (train, val, test) == recipes.dataloaders(
        train_pipeline, test_pipeline, batch_size=4, drop_last=True)


def test_uiunet_data_returns_its_sizes_pipelines_and_dataloaders():
    (resize_size, crop_size, train_pipeline, test_pipeline, train, val,
     test) = recipes.uiunet_data(320, (288, 288))
    assert (resize_size, crop_size) == (320, (288, 288))
    assert train_pipeline == recipes.uiunet_train_pipeline(320, (288, 288))
    assert test_pipeline == recipes.legacy_test_pipeline(320)
    assert train == recipes.uiunet_train_dataloader(train_pipeline)
    assert val == test == dict(dataset=dict(pipeline=test_pipeline))


def test_serankdet_and_sctransnet_data_read_the_base():
    from mmengine.config import ConfigDict
    base = ConfigDict(
        train_pipeline=recipes.basicirstd_train_pipeline((256, 256)),
        test_pipeline=recipes.pipeline(),
        legacy_test_pipeline=recipes.legacy_test_pipeline(256),
        img_norm_cfg=dict(mean=51, std=102))
    (train_pipeline, test_pipeline, legacy_test_pipeline, train, val,
     test) = recipes.serankdet_data(base, 8)
    assert train_pipeline == recipes.with_color_type(base.train_pipeline,
                                                     'rgb')
    assert test_pipeline[0] == dict(type='LoadIRSTDImageFromFile',
                                    color_type='rgb')
    assert legacy_test_pipeline == recipes.with_color_type(
        base.legacy_test_pipeline, 'rgb')
    assert (train, val, test) == recipes.dataloaders(
        train_pipeline, test_pipeline, batch_size=8, drop_last=True)
    model, train = recipes.sctransnet_data(base)
    assert model == dict(data_preprocessor=dict(mean=(0.2, ), std=(0.4, )))
    assert train == dict(dataset=dict(pipeline=recipes.with_crop_rule(
        base.train_pipeline, 'redraw')))


def test_a_text_config_unpacks_a_recipe_over_its_base(tmp_path):
    from mmengine.config import Config
    (tmp_path / 'base.py').write_text(
        "_base_ = []\nfrom serankdet import recipes  # noqa: E402\n\n"
        "test_pipeline = recipes.pipeline()\n"
        "train_dataloader = dict(batch_size=8, num_workers=4)\n"
        "val_dataloader = test_dataloader = dict(batch_size=1)\n")
    (tmp_path / 'child.py').write_text(
        "_base_ = ['./base.py']\nfrom serankdet import recipes  # noqa: E402\n"
        "\n(train_dataloader, val_dataloader,\n"
        " test_dataloader) = recipes.dataloaders(\n"
        "     None, _base_.test_pipeline, batch_size=4)\n")
    cfg = Config.fromfile(str(tmp_path / 'child.py'))
    assert cfg.train_dataloader == dict(batch_size=4, num_workers=4)
    assert cfg.val_dataloader == cfg.test_dataloader == dict(
        batch_size=1, dataset=dict(pipeline=recipes.pipeline()))
    assert 'recipes' not in cfg
