"""Helpers: run the tools in this process, as their command line does."""
import itertools
import os.path as osp
import runpy

import pytest

from serankdet.cli import run_cli
from tests.conftest import REPO_ROOT
from tests.test_tools.conftest import write_tiny_config

_names = itertools.count()


def tool_main(name):
    """The ``main`` of ``tools/<name>.py``."""
    return runpy.run_path(osp.join(REPO_ROOT, 'tools', f'{name}.py'),
                          run_name='tool')['main']


def run_tool_cli(name, *argv):
    """Exit status of ``python tools/<name>.py ARGV`` (errors users cause
    are printed, anything else raises). Each run gets its own experiment
    name: mmengine keeps message hubs per name in the process."""
    argv = list(argv)
    if name in ('train', 'test'):
        unique = f'run{next(_names)}'
        if '--cfg-options' not in argv:
            argv.append('--cfg-options')
        at = argv.index('--cfg-options') + 1
        argv[at:at] = [f'experiment_name={unique}', f'visualizer.name={unique}']
    return run_cli(tool_main(name), argv)


def write_config(folder, name, body, base=None):
    """A config file ``name`` in ``folder`` inheriting ``base`` (default:
    the tiny synthetic config)."""
    base = base or write_tiny_config(folder)
    path = osp.join(folder, name)
    with open(path, 'w') as handle:
        handle.write(f'_base_ = [{base!r}]\n{body}\n')
    return path


@pytest.fixture
def tiny_config(tmp_path):
    return write_tiny_config(str(tmp_path))
