"""``tools/train.py --sync-bn``: every BatchNorm of every model becomes
torch's SyncBatchNorm (mmengine's conversion, which the runner applies
under DDP); refused with one error line without CUDA."""
import glob
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.model import convert_sync_batchnorm

from serankdet.engine.runner import SyncBatchNormError, check_sync_bn
from serankdet.registry import MODELS
from tests.conftest import REPO_ROOT
from tests.tool_runner import DEMO_CONFIG, run_tool_cli

#: one config per model (SAM-SPL: the smallest variant)
MODEL_CONFIGS = sorted(
    sorted(glob.glob(osp.join(folder, '*.py')))[-1]
    for folder in glob.glob(osp.join(REPO_ROOT, 'configs', '*'))
    if not folder.endswith('_base_') and glob.glob(osp.join(folder, '*.py')))


@pytest.mark.parametrize('config', MODEL_CONFIGS,
                         ids=[osp.basename(c) for c in MODEL_CONFIGS])
def test_every_batchnorm_becomes_sync_bn(config):
    model = MODELS.build(Config.fromfile(config).model)
    batchnorms = [name for name, module in model.named_modules()
                  if isinstance(module, torch.nn.modules.batchnorm._BatchNorm)]
    converted = convert_sync_batchnorm(model)
    synced = [name for name, module in converted.named_modules()
              if type(module) is torch.nn.SyncBatchNorm]
    assert batchnorms and synced == batchnorms


def test_sync_bn_keeps_the_eval_outputs():
    """Weights and running statistics carry over: in eval mode (no
    synchronisation) the converted model computes what the original does."""
    torch.manual_seed(0)
    model = MODELS.build(Config.fromfile(DEMO_CONFIG).model)
    for module in model.modules():
        if isinstance(module, torch.nn.BatchNorm2d):
            module.running_mean.uniform_(-0.1, 0.1)
            module.running_var.uniform_(0.5, 2.0)
    model.eval()
    inputs = torch.rand(2, 1, 32, 32)
    with torch.no_grad():
        expected = model(inputs, mode='tensor')
        converted = convert_sync_batchnorm(model).eval()
        torch.testing.assert_close(converted(inputs, mode='tensor'),
                                   expected, rtol=0, atol=0)


@pytest.mark.skipif(torch.cuda.is_available(), reason='checks the CPU path')
def test_sync_bn_is_refused_without_cuda(tiny_config, tmp_path, capsys):
    with pytest.raises(SyncBatchNormError, match='needs CUDA GPUs'):
        check_sync_bn('torch')
    check_sync_bn(None)
    status = run_tool_cli('train', tiny_config, '--work-dir',
                          str(tmp_path / 'work'), '--sync-bn')
    lines = capsys.readouterr().err.strip().splitlines()
    assert status == 2
    assert lines[0] == (
        "error: sync_bn='torch' (--sync-bn): SyncBatchNorm needs CUDA GPUs "
        'and this machine has none; distributed training on CPUs (gloo) '
        'keeps BatchNorm statistics per process. Run without --sync-bn.')
    assert not (tmp_path / 'work').exists() or not list(
        (tmp_path / 'work').iterdir())
