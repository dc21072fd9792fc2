"""DistributedDataParallel for a CPU-only torch (compatibility fix 3)."""
from mmengine.model import MMDistributedDataParallel
from mmengine.registry import MODEL_WRAPPERS as MMENGINE_MODEL_WRAPPERS


# Registered in mmengine's root registry: Runner.wrap_model looks wrappers up
# there by plain name, without the default scope.
@MMENGINE_MODEL_WRAPPERS.register_module()
class CPUDistributedDataParallel(MMDistributedDataParallel):
    """``MMDistributedDataParallel`` without ``device_ids`` (gloo on CPU).

    mmengine's Runner always passes ``device_ids=[LOCAL_RANK]``, which DDP
    rejects for CPU modules. Selected by
    :func:`serankdet.utils.compat.patch_cpu_distributed` only when CUDA is
    unavailable; on GPUs the stock wrapper (NCCL) is used unchanged.
    """

    def __init__(self, module, device_ids=None, **kwargs):
        super().__init__(module=module, device_ids=None, **kwargs)
