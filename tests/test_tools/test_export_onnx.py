"""tools/deployment/export_onnx.py: the ONNX graph computes the PyTorch
logits (onnxruntime, random weights and inputs, within 1e-4)."""
import json

import numpy as np
import pytest
import torch

from tests.conftest import REPO_ROOT

onnx = pytest.importorskip('onnx')
pytest.importorskip('onnxruntime')
from tools.deployment.export_onnx import (  # noqa: E402
    LogitsModel, main, run_onnx)

UNET = f'{REPO_ROOT}/configs/unet/unet_1xb8-800i_synthetic-128x128.py'
DATRANSNET = (f'{REPO_ROOT}/configs/datransnet/'
              'datransnet_1xb4-400e_sirst-256x256.py')


def check_against_torch(config, path, size):
    """Rebuild the exported (seeded) model; compare on a fresh input."""
    from serankdet.apis import init_model
    torch.manual_seed(0)
    wrapper = LogitsModel(init_model(config)).eval()
    inputs = torch.randn(*size)
    with torch.no_grad():
        expected = wrapper(inputs).numpy()
    actual = run_onnx(path, inputs)
    assert actual.shape == expected.shape == (size[0], 1) + size[2:]
    assert np.abs(actual - expected).max() < 1e-4


def test_unet_dynamic_torchscript(tmp_path, capsys):
    out = str(tmp_path / 'unet.onnx')
    assert main([UNET, 'none', out, '--shape', '64', '48', '--dynamic',
                 '--exporter', 'torchscript']) == 0
    log = capsys.readouterr().out
    assert 'dynamic dimensions: batch, height, width' in log
    assert 'mean: [0.5]' in log and 'std: [0.25]' in log
    assert log.count('max |onnxruntime - PyTorch|') == 2
    meta = {p.key: p.value for p in onnx.load(out).metadata_props}
    info = json.loads(meta['serankdet.preprocessing'])
    assert (info['in_channels'], info['size_divisor']) == (1, 8)
    # no checkpoint, no calibration file: the config's decision rule
    assert json.loads(meta['serankdet.decision_rule']) == dict(
        decision_rule=dict(threshold=0.5, min_area=0, max_area=None,
                           seed_threshold=None), calibration=None)
    assert ('decision rule stored in its metadata (serankdet.decision_rule)'
            ": threshold 0.5, the config's") in log
    check_against_torch(UNET, out, (3, 1, 40, 72))


@pytest.mark.slow
def test_datransnet_dynamo(tmp_path, capsys):
    pytest.importorskip('onnxscript')
    out = str(tmp_path / 'datransnet.onnx')
    assert main([DATRANSNET, 'none', out, '--shape', '64', '64']) == 0
    assert 'dynamo exporter' in capsys.readouterr().out
    check_against_torch(DATRANSNET, out, (1, 1, 64, 64))


def test_shape_must_fit_the_size_divisor(tmp_path):
    with pytest.raises(SystemExit, match='multiples of the model.s '
                       'size_divisor 8'):
        main([UNET, 'none', str(tmp_path / 'x.onnx'), '--shape', '60', '64'])
