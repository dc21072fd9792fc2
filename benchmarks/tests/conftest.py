"""The benchmarks' own tests (what needs no official checkout): the
benchmark scripts, run as ``python benchmarks/<name>.py``, imported once as
modules, each a fixture of its name. The toolbox's tests (``tests/``) import
nothing of the benchmarks."""
import importlib.util
import os.path as osp
import sys

import pytest

BENCHMARKS = osp.dirname(osp.dirname(osp.abspath(__file__)))


def _script(name):
    """``benchmarks/<name>.py`` imported once as a module."""
    module_name = f'_serankdet_benchmarks_{name}'
    if module_name not in sys.modules:
        spec = importlib.util.spec_from_file_location(
            module_name, osp.join(BENCHMARKS, f'{name}.py'))
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module
        spec.loader.exec_module(module)
    return sys.modules[module_name]


def _script_fixture(name):
    """The session fixture ``name``: ``benchmarks/<name>.py``."""
    return pytest.fixture(scope='session', name=name)(lambda: _script(name))


deploy = _script_fixture('deploy')
epoch_time = _script_fixture('epoch_time')
false_alarms = _script_fixture('false_alarms')
parity = _script_fixture('parity')
short_schedule = _script_fixture('short_schedule')
step_exact = _script_fixture('step_exact')


@pytest.fixture(scope='session')
def gpu_check():
    return _script('gpu_check')
