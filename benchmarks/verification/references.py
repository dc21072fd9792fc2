"""The official checkouts: importing their files without copying them.

Nothing of the authors' code is copied into this repository: each file is
executed at run time from a checkout the user gives, under a private module
name or under a temporary ``sys.modules`` entry pointing at the checkout
(both the SeRankDet and the DATransNet checkouts have top-level packages
called ``model`` and ``utils``, so every entry added below such a name is
removed again afterwards; the imported classes keep working through their
own globals). ``sys.path`` is never changed. Third-party modules the
official files import at module level but never use on the paths driven
here get stubs (:func:`stub_modules`); ``torchvision.transforms`` gets a
stand-in when torchvision is not installed (:func:`load_official`).

Also here: the official data code (:func:`load_official`), the official
scripts' seeding (:func:`seed_like_official`) and the checkout's commit.
"""
import contextlib
import importlib.util
import os
import os.path as osp
import subprocess
import sys
import types
from typing import Dict, List

import numpy as np
import torch
from PIL import Image


REPOS = {
    'serankdet': 'https://github.com/GrokCV/SeRankDet',
    'datransnet': 'https://github.com/greekinRoma/DATransNet',
    'samspl-t': 'https://github.com/fuyimin96/SAM-SPL',
}


# Import name -> PyPI name, for the install advice.
PIP_NAMES = {'yaml': 'pyyaml', 'einops': 'einops', 'PIL': 'pillow'}


def checkout_file(name: str, root: str, relpath: str) -> str:
    """Absolute path of ``relpath`` in the checkout, or a clear error."""
    path = osp.join(root, relpath)
    if not osp.isfile(path):
        raise FileNotFoundError(
            f'{name}: expected the official file {relpath!r} in the checkout '
            f'{root!r}, but {path!r} does not exist; clone it with '
            f'`git clone {REPOS[name]}` and pass that folder as root')
    return path


def bare_package(name: str, path: str) -> types.ModuleType:
    """A package ``name`` searching ``path``, without running its
    ``__init__.py`` (DATransNet's ``model/__init__.py`` imports every
    baseline of that repository and their dependencies)."""
    spec = importlib.util.spec_from_loader(name, loader=None, is_package=True)
    spec.submodule_search_locations = [path]
    module = importlib.util.module_from_spec(spec)
    return module


def stub_modules(names: Dict[str, List[str]],
                  pip_name: str) -> Dict[str, types.ModuleType]:
    """Modules holding placeholders for names the reference imports but
    never uses on the path built here; calling one raises ImportError."""

    def unavailable(qualname):

        def placeholder(*args, **kwargs):
            raise ImportError(f'{qualname} is a stub: pip install {pip_name}')

        return placeholder

    modules = {}
    for module_name, attrs in names.items():
        parts = module_name.split('.')
        for i in range(1, len(parts) + 1):  # parents must exist too
            parent = '.'.join(parts[:i])
            modules.setdefault(parent, types.ModuleType(parent))
        for attr in attrs:
            setattr(modules[module_name], attr,
                    unavailable(f'{module_name}.{attr}'))
    return modules


@contextlib.contextmanager
def temporary_modules(name: str, modules: Dict[str, types.ModuleType]):
    """Install ``modules`` in ``sys.modules`` for the duration of the block.

    Every entry under their top-level names that exists before is set
    aside and restored afterwards; every entry imported below them during
    the block is removed, so checkouts sharing a package name (``model``,
    ``utils``) cannot see each other. A module missing from the environment
    becomes an ImportError with install advice.
    """
    tops = {key.split('.')[0] for key in modules}

    def owned(key):
        return key.split('.')[0] in tops

    saved = {key: mod for key, mod in sys.modules.items() if owned(key)}
    for key in saved:
        del sys.modules[key]
    sys.modules.update(modules)
    try:
        yield
    except ModuleNotFoundError as err:
        missing = (err.name or '').split('.')[0]
        if missing in tops:  # a file of the checkout itself is missing
            raise FileNotFoundError(
                f'{name}: the checkout lacks module {err.name!r}; use a '
                f'complete clone of {REPOS[name]}') from err
        raise ImportError(
            f'{name}: the reference code needs {missing!r}: pip install '
            f'{PIP_NAMES.get(missing, missing)}') from err
    finally:
        for key in [key for key in sys.modules if owned(key)]:
            del sys.modules[key]
        sys.modules.update(saved)


def load_file(path: str, module_name: str) -> types.ModuleType:
    """Execute one reference file as a module under a private name, so that
    its package ``__init__.py`` (which pulls unrelated dependencies) does
    not run."""
    spec = importlib.util.spec_from_file_location(module_name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# torchvision stand-in (the official loaders import torchvision.transforms
# at module level; only these four classes are used)


def _torchvision_standin() -> Dict[str, types.ModuleType]:
    """``torchvision`` itself when installed, else the stand-in modules."""
    import importlib.util
    if importlib.util.find_spec('torchvision') is not None:
        return {}
    return _torchvision_modules()


def _torchvision_modules() -> Dict[str, types.ModuleType]:

    class Compose:

        def __init__(self, transforms):
            self.transforms = list(transforms)

        def __call__(self, x):
            for t in self.transforms:
                x = t(x)
            return x

    class ToTensor:
        """HWC (or HW) uint8 -> CHW float32 / 255; other dtypes unscaled."""

        def __call__(self, pic):
            if isinstance(pic, Image.Image):
                pic = np.array(pic)
            if pic.ndim == 2:
                pic = pic[:, :, None]
            t = torch.from_numpy(pic.transpose((2, 0, 1))).contiguous()
            if t.dtype == torch.uint8:
                return t.to(torch.get_default_dtype()).div(255)
            return t

    class Normalize:
        """(t - mean[c]) / std[c] in the tensor's dtype."""

        def __init__(self, mean, std):
            self.mean, self.std = list(mean), list(std)

        def __call__(self, t):
            mean = torch.as_tensor(self.mean, dtype=t.dtype).view(-1, 1, 1)
            std = torch.as_tensor(self.std, dtype=t.dtype).view(-1, 1, 1)
            return t.sub(mean).div(std)

    class Lambda:

        def __init__(self, fn):
            self.fn = fn

        def __call__(self, x):
            return self.fn(x)

    tv = types.ModuleType('torchvision')
    tr = types.ModuleType('torchvision.transforms')
    tr.Compose, tr.ToTensor, tr.Normalize, tr.Lambda = (Compose, ToTensor,
                                                        Normalize, Lambda)
    tv.transforms = tr
    return {'torchvision': tv, 'torchvision.transforms': tr}


def load_official(name: str, root: str) -> types.ModuleType:
    """The official dataset module of ``name`` from the checkout ``root``."""
    if name == 'serankdet':
        path = osp.join(root, 'utils', 'data.py')
        with temporary_modules('serankdet', _torchvision_standin()):
            return load_file(path, '_reference_serankdet_data')
    if name == 'datransnet':
        path = osp.join(root, 'utils', 'datasets.py')
        os.environ.setdefault('MPLBACKEND', 'Agg')
        # datasets.py does `from utils.images import load_image`
        with temporary_modules('datransnet', {
                'utils': bare_package('utils', osp.join(root, 'utils'))}):
            return load_file(path, '_reference_datransnet_datasets')
    if name == 'samspl':
        path = osp.join(root, 'dataset', 'image_floder.py')
        with temporary_modules('samspl-t', _torchvision_standin()):
            return load_file(path, '_reference_samspl_image_folder')
    raise KeyError(name)


@contextlib.contextmanager
def chdir(path):
    old = os.getcwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(old)


def seed_like_official(seed: int) -> None:
    """What the three official seed functions do on a CPU (DATransNet
    ``utils/utils.py`` ``seed_pytorch``, SAM-SPL ``training/utils.py``
    ``seed_everything``, SeRankDet ``utils/tools.py`` ``random_seed``; the
    rest of theirs is CUDA/cuDNN settings)."""
    import random
    random.seed(seed)
    os.environ['PYTHONHASHSEED'] = str(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def official_commit(root: str) -> str:
    try:
        return subprocess.run(
            ['git', '-C', root, 'rev-parse', 'HEAD'], capture_output=True,
            text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return 'unknown (not a git checkout)'
