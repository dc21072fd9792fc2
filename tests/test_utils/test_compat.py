"""Each compatibility fix, with the failure it prevents."""
import argparse
import os
import subprocess
import sys

import pytest
import torch

from serankdet.utils import (UnsafeCheckpointError, add_launcher_args,
                             export_local_rank)
from serankdet.utils.compat import install_mmcv_ext_stub, patch_cpu_distributed


def _real_mmcv_ext():
    stub = sys.modules.get('mmcv._ext')
    return stub is not None and not getattr(stub, '__serankdet_stub__', False)


# --- fix 1: mmcv._ext stand-in -------------------------------------------
@pytest.mark.skipif(_real_mmcv_ext(), reason='full mmcv installed')
def test_mmseg_models_do_not_import_without_stub():
    code = 'import mmseg.models'
    result = subprocess.run([sys.executable, '-c', code],
                            capture_output=True, text=True)
    assert result.returncode != 0
    assert "No module named 'mmcv._ext'" in result.stderr


@pytest.mark.skipif(_real_mmcv_ext(), reason='full mmcv installed')
def test_stub_has_spec_and_raises_only_when_called():
    from mmengine.utils.dl_utils import mmcv_full_available
    import mmseg.models  # noqa: F401  (imports mmcv.ops through the stub)
    stub = sys.modules['mmcv._ext']
    assert stub.__spec__ is not None and stub.__spec__.name == 'mmcv._ext'
    assert mmcv_full_available() is False
    assert install_mmcv_ext_stub() is False  # idempotent
    with pytest.raises(RuntimeError, match='nms.*mmcv-lite'):
        stub.nms()


# --- fix 2: weights-only checkpoint loading ------------------------------
# (the loader itself: tests/test_utils/test_checkpoint.py)
def test_mmengine_loader_uses_safe_loader(tmp_path):
    from mmengine.runner.checkpoint import _load_checkpoint
    path = tmp_path / 'evil.pth'
    torch.save({'x': os.getcwd}, path)
    with pytest.raises(UnsafeCheckpointError, match='posix.getcwd'):
        _load_checkpoint(str(path), 'cpu')
    with pytest.raises(FileNotFoundError, match='missing.pth'):
        _load_checkpoint(str(tmp_path / 'missing.pth'), 'cpu')


# --- fix 3: DDP on a CPU-only torch --------------------------------------
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


# --- fix 4: both spellings of the local-rank flag ------------------------
@pytest.mark.parametrize('flag', ['--local_rank=1', '--local-rank=1'])
def test_local_rank_flags(flag, monkeypatch):
    monkeypatch.delenv('LOCAL_RANK', raising=False)
    parser = argparse.ArgumentParser()
    add_launcher_args(parser)
    args = parser.parse_args(['--launcher', 'pytorch', flag])
    assert args.local_rank == 1
    export_local_rank(args)
    assert os.environ['LOCAL_RANK'] == '1'


def test_torchrun_local_rank_wins(monkeypatch):
    monkeypatch.setenv('LOCAL_RANK', '3')
    parser = argparse.ArgumentParser()
    add_launcher_args(parser)
    export_local_rank(parser.parse_args([]))
    assert os.environ['LOCAL_RANK'] == '3'
