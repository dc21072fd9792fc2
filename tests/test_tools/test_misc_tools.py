"""tools/misc/print_config.py and tools/misc/browse_dataset.py."""
import os

import cv2
import numpy as np
from mmengine.config import Config
from mmengine.runner import set_random_seed

from serankdet.registry import DATASETS
from serankdet.visualization.irstd_visualizer import GAP, LEGEND_HEIGHT
from tests.tool_runner import DEMO_CONFIG, run_tool_cli, write_tiny_config


def test_print_config_prints_the_built_config_with_overrides(tmp_path,
                                                              capsys):
    saved = tmp_path / 'built.py'
    assert run_tool_cli('misc/print_config', DEMO_CONFIG, '--cfg-options',
                        'train_cfg.max_iters=7',
                        'model.decode_head.loss_decode.0.loss_weight=0.5',
                        '--save', str(saved)) == 0
    printed = capsys.readouterr().out
    expected = Config.fromfile(DEMO_CONFIG)
    expected.merge_from_dict({
        'train_cfg.max_iters': 7,
        'model.decode_head.loss_decode.0.loss_weight': 0.5})
    # the bases merged and the overrides applied, and nothing else changed
    for built in (Config.fromstring(printed, '.py'), Config.fromfile(saved)):
        assert built.to_dict() == expected.to_dict()
    assert built.train_cfg.max_iters == 7
    assert printed.strip() == saved.read_text().strip()


def test_print_config_checks_like_the_tools(capsys):
    assert run_tool_cli('misc/print_config', DEMO_CONFIG, '--cfg-options',
                        'model.backbone.type=UNetBackbon') == 2
    err = capsys.readouterr().err
    assert "unknown type 'UNetBackbon' at model.backbone.type" in err


def _pictures(folder):
    return sorted(os.listdir(folder))


def test_browse_dataset_saves_the_augmented_training_samples(tmp_path,
                                                             capsys):
    config = write_tiny_config(str(tmp_path))
    out = tmp_path / 'browse'
    assert run_tool_cli('misc/browse_dataset', config, '--num', '3',
                        '--output-dir', str(out)) == 0
    assert '3 training samples drawn' in capsys.readouterr().out
    names = _pictures(out)
    assert [name[:5] for name in names] == ['0000_', '0001_', '0002_']

    # the same samples, drawn with the config's seed: the pictures show the
    # pipeline's output (64x64 frames padded and cropped to 128x128), not
    # the files
    cfg = Config.fromfile(config)
    set_random_seed(cfg.randomness.seed)
    dataset = DATASETS.build(cfg.train_dataloader.dataset)
    for index, name in enumerate(names):
        item = dataset[index]
        mask = item['data_samples'].gt_sem_seg.data.numpy()[0] != 0
        assert mask.shape == (128, 128)
        assert name.endswith(
            f'{os.path.basename(item["data_samples"].img_path)}')
        picture = cv2.imread(str(out / name))
        scale = 3  # 128 px enlarged to the display side, 384
        assert picture.shape == (128 * scale + LEGEND_HEIGHT,
                                 2 * 128 * scale + GAP, 3)
        mask_panel = picture[:128 * scale, 128 * scale + GAP:, 0]
        assert np.array_equal(mask_panel[::scale, ::scale] == 255, mask)

    # the draws follow the config's seed: a second run gives the same
    again = tmp_path / 'again'
    assert run_tool_cli('misc/browse_dataset', config, '--num', '3',
                        '--output-dir', str(again)) == 0
    for name in names:
        assert np.array_equal(cv2.imread(str(out / name)),
                              cv2.imread(str(again / name)))
