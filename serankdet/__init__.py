"""serankdet: an OpenMMLab 2.x toolbox for infrared small target detection."""
from .utils.compat import install_mmcv_ext_stub
from .version import __version__

# mmseg imports mmcv.ops at module level; the stub must exist before any
# mmseg submodule is imported (see serankdet/utils/compat.py, fix 1).
install_mmcv_ext_stub()

from .utils.compat import apply_all  # noqa: E402

apply_all()

__all__ = ['__version__']
