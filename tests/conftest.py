"""Shared fixtures: where the reference material of ../shared lives, a
tiny trainable config, the Python interpreter."""
import os
import os.path as osp
import sys

import pytest

REPO_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
SHARED = os.environ.get('SERANKDET_SHARED', osp.join(REPO_ROOT, '..', 'shared'))


def _shared_path(*parts):
    path = osp.normpath(osp.join(SHARED, *parts))
    if not osp.exists(path):
        pytest.skip(f'{path} is not available')
    return path


@pytest.fixture(scope='session')
def golden_dir():
    """``../shared/golden`` (override with SERANKDET_SHARED); skip if absent."""
    return _shared_path('golden')


@pytest.fixture(scope='session')
def shared_datasets_dir():
    """``../shared/datasets``; skip if absent."""
    return _shared_path('datasets')


@pytest.fixture(scope='session', autouse=True)
def _registered_modules():
    from serankdet.apis import register_all_modules
    register_all_modules()


@pytest.fixture
def python():
    return sys.executable


@pytest.fixture
def tiny_config(tmp_path):
    """A demo config shrunk to seconds (:func:`write_tiny_config`)."""
    from tests.tool_runner import write_tiny_config
    return write_tiny_config(str(tmp_path))
