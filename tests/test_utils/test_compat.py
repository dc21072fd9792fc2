"""Each compatibility fix, with the failure it prevents."""
import os
import subprocess
import sys

import pytest
import torch

from serankdet.utils import (UnsafeCheckpointError, mmcv_ops_importable,
                             patch_cpu_distributed)


def _real_mmcv_ext():
    stub = sys.modules.get('mmcv._ext')
    return stub is not None and not getattr(stub, '__serankdet_stub__', False)


# --- fix 1: mmcv._ext stand-in while mmseg imports ----------------------
@pytest.mark.skipif(_real_mmcv_ext(), reason='full mmcv installed')
def test_mmseg_models_do_not_import_without_stub():
    code = 'import mmseg.models'
    result = subprocess.run([sys.executable, '-c', code],
                            capture_output=True, text=True)
    assert result.returncode != 0
    assert "No module named 'mmcv._ext'" in result.stderr


@pytest.mark.skipif(_real_mmcv_ext(), reason='full mmcv installed')
def test_stub_only_while_mmseg_imports():
    """In a fresh interpreter: `import serankdet` changes nothing; importing
    the models imports mmseg.models through the stand-in, which is gone
    afterwards; a compiled op raises only when called."""
    code = """
import sys
import serankdet
assert 'mmcv._ext' not in sys.modules and 'mmseg' not in sys.modules
import torch
set_device = torch.cuda.set_device
import serankdet.models, serankdet.datasets
assert 'mmseg.models' in sys.modules and 'mmcv._ext' not in sys.modules
assert torch.cuda.set_device is set_device
from mmengine.utils.dl_utils import mmcv_full_available
assert mmcv_full_available() is False
from mmcv.ops import nms
try:
    nms(torch.zeros(1, 4), torch.zeros(1), 0.5)
except RuntimeError as err:
    assert 'mmcv-lite' in str(err), err
else:
    raise AssertionError('nms ran')
print('ok')
"""
    result = subprocess.run([sys.executable, '-c', code],
                            capture_output=True, text=True)
    assert result.stdout.strip() == 'ok', result.stderr


def test_stub_context_is_a_no_op_once_imported():
    import mmseg.models  # noqa: F401  (imported by the test session)
    with mmcv_ops_importable():
        assert 'mmcv._ext' not in sys.modules or not getattr(
            sys.modules['mmcv._ext'], '__serankdet_stub__', False)


# --- checkpoints load through the safe loader, not a patched mmengine -----
# (the loader itself: tests/test_utils/test_checkpoint.py)
def test_runner_loads_through_safe_loader(tmp_path):
    from mmengine.runner.checkpoint import _load_checkpoint

    from serankdet.engine import IRSTDRunner
    path = tmp_path / 'evil.pth'
    torch.save({'x': os.getcwd}, path)
    runner = IRSTDRunner.__new__(IRSTDRunner)  # load_checkpoint's state only
    with pytest.raises(UnsafeCheckpointError, match='posix.getcwd'):
        runner.load_checkpoint(str(path))
    # mmengine's own loader is left as it is (weights only on torch >= 2.6)
    with pytest.raises(Exception) as info:
        _load_checkpoint(str(path), 'cpu')
    assert not isinstance(info.value, UnsafeCheckpointError)


# --- fix 2: DDP on a CPU-only torch --------------------------------------
@pytest.mark.skipif(torch.cuda.is_available(), reason='CUDA available')
def test_cpu_ddp_wrapper(tmp_path, monkeypatch):
    import torch.distributed as dist
    from mmengine.config import Config
    from mmengine.model import MMDistributedDataParallel

    from serankdet.engine import CPUDistributedDataParallel
    cfg = patch_cpu_distributed(Config(dict(env_cfg=dict(
        dist_cfg=dict(backend='nccl')))))
    assert cfg.env_cfg.dist_cfg == dict(backend='gloo')
    assert cfg.model_wrapper_cfg.type == 'CPUDistributedDataParallel'
    torch.cuda.set_device(0)  # a no-op now instead of an AttributeError

    dist.init_process_group('gloo', init_method=f'file://{tmp_path}/store',
                            rank=0, world_size=1)
    try:
        module = torch.nn.Linear(2, 1)
        with pytest.raises(ValueError, match='device_ids'):
            MMDistributedDataParallel(module=module, device_ids=[0])
        wrapped = CPUDistributedDataParallel(module=module, device_ids=[0])
        assert wrapped(torch.ones(1, 2)).shape == (1, 1)
    finally:
        dist.destroy_process_group()
