"""tools/analysis_tools/dataset_statistics.py computes what a dataset
config's img_norm_cfg states."""
import os.path as osp

import cv2
import numpy as np
import pytest
from mmengine.config import Config

from tests.conftest import REPO_ROOT
from tests.tool_runner import run_tool_cli

TOOL = 'analysis_tools/dataset_statistics'


def test_reproduces_the_nudt_sirst_config(shared_datasets_dir, capsys):
    # BasicIRSTD's statistics of NUDT-SIRST, over its 1327 frames
    assert run_tool_cli(TOOL, osp.join(shared_datasets_dir,
                                       'NUDT-SIRST')) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == '1327 frames'
    computed = Config.fromstring(out[1], '.py').img_norm_cfg
    stated = Config.fromfile(osp.join(
        REPO_ROOT, 'configs/_base_/datasets/nudt_sirst.py')).img_norm_cfg
    assert computed.mean == pytest.approx(stated.mean, abs=1e-5)
    assert computed.std == pytest.approx(stated.std, abs=1e-5)


def test_mean_of_frame_means_and_stds_on_the_8_bit_scale(tmp_path, capsys):
    frames = {'trainval/images/a.png': np.array([[0, 2]], np.uint8),
              'test/images/b.png': np.array([[10, 10]], np.uint8),
              # 16-bit: scaled to 0-255 (mean 50, std 50)
              'test/images/c.png': np.array([[0, 100 * 257]], np.uint16)}
    for name, frame in frames.items():
        (tmp_path / osp.dirname(name)).mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(tmp_path / name), frame)
    assert run_tool_cli(TOOL, str(tmp_path)) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == '3 frames'
    stats = Config.fromstring(out[1], '.py').img_norm_cfg
    assert stats.mean == pytest.approx((1 + 10 + 50) / 3)
    assert stats.std == pytest.approx((1 + 0 + 50) / 3)
