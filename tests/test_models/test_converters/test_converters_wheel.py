"""The converters work from an installed wheel, away from the repository.

The working tree is built into a wheel (``pip wheel``, in a copy so the
checkout gets no ``build/``), installed with ``pip install --target`` and
imported with ``PYTHONPATH=<target>`` from an empty working directory: the
converters find their configs in the wheel (``serankdet/.mim/configs``),
and convert exactly as from the checkout. Runtime: about 20 s (the wheel
build and one import of torch per subprocess).
"""
import json
import os
import os.path as osp
import shutil
import subprocess
import sys
import zipfile

import pytest
import torch

from serankdet.apis.conversion import convert_checkpoint, expected_shapes
from serankdet.models.converters import converter_names, get_converter
from tests.conftest import REPO_ROOT
from tests.test_models.test_converters.test_converter_rules import \
    CONVERTER_NAMES

pytestmark = pytest.mark.slow

CONVERTER = osp.join(REPO_ROOT, 'tools', 'model_converters',
                     'official2serankdet.py')
# what the wheel is built from; tests/, tools/, benchmarks/ are not shipped
SOURCES = ('setup.py', 'MANIFEST.in', 'README.md', 'serankdet', 'configs')


def run(args, cwd, env=None):
    result = subprocess.run(args, cwd=cwd, env=env, capture_output=True,
                            text=True, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    return result


@pytest.fixture(scope='module')
def installed(tmp_path_factory):
    """(site folder holding the installed wheel, environment importing
    serankdet from there only, an empty working directory)."""
    pytest.importorskip('setuptools')
    tmp = tmp_path_factory.mktemp('wheel')
    source = tmp / 'source'
    source.mkdir()
    ignore = shutil.ignore_patterns('__pycache__', '*.pyc', '*.egg-info')
    for name in SOURCES:
        path = osp.join(REPO_ROOT, name)
        if osp.isdir(path):
            shutil.copytree(path, source / name, ignore=ignore)
        elif osp.exists(path):
            shutil.copy(path, source / name)
    dist = tmp / 'dist'
    run([sys.executable, '-m', 'pip', 'wheel', '--no-deps',
         '--no-build-isolation', '-q', '-w', str(dist), '.'], cwd=source)
    (wheel, ) = dist.glob('serankdet-*.whl')
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    for name in converter_names():
        config = get_converter(name).config
        assert f'serankdet/.mim/{config}' in names, config
    site = tmp / 'site'
    run([sys.executable, '-m', 'pip', 'install', '--no-deps', '-q',
         '--target', str(site), str(wheel)], cwd=tmp)
    cwd = tmp / 'elsewhere'
    cwd.mkdir()
    env = dict(os.environ, PYTHONPATH=str(site), OMP_NUM_THREADS='1')
    env.pop('PYTHONSAFEPATH', None)
    return site, env, cwd


WHEEL_SHAPES = '''
import json, sys
import serankdet
from serankdet.apis.conversion import config_roots, expected_shapes
from serankdet.models.converters import converter_names, get_converter
print(json.dumps(dict(
    package=serankdet.__file__, roots=config_roots(),
    shapes={name: {k: list(v) for k, v in
                   expected_shapes(get_converter(name)).items()}
            for name in converter_names()})))
'''


def test_installed_wheel_knows_every_model(installed):
    """Every converter builds our model from the configs in the wheel, the
    same keys and shapes as from the checkout."""
    site, env, cwd = installed
    result = json.loads(run([sys.executable, '-c', WHEEL_SHAPES], cwd=cwd,
                            env=env).stdout.splitlines()[-1])
    assert result['package'] == str(site / 'serankdet' / '__init__.py')
    assert result['roots'] == [str(site / 'serankdet' / '.mim')]
    assert sorted(result['shapes']) == converter_names() == CONVERTER_NAMES
    for name, shapes in result['shapes'].items():
        ours = expected_shapes(get_converter(name))
        assert shapes == {k: list(v) for k, v in ours.items()}, name


def test_installed_wheel_converts_bit_identically(installed, golden_dir,
                                                   tmp_path):
    """The command-line tool on the installed package converts the
    DATransNet golden checkpoint to the very file the checkout writes."""
    site, env, cwd = installed
    src = osp.join(golden_dir, 'datransnet.pt')
    result = run([sys.executable, CONVERTER, '--model', 'datransnet', src,
                  'converted.pth'], cwd=cwd, env=env)
    assert result.stdout.splitlines() == [
        'note: dropped 30 keys: built by the reference but never used in '
        'its forward (encoder5/decoder5); not part of the model',
        'wrote converted.pth'
    ]
    expected = str(tmp_path / 'expected.pth')
    convert_checkpoint('datransnet', src, expected)
    wheel = torch.load(cwd / 'converted.pth', weights_only=True)
    checkout = torch.load(expected, weights_only=True)
    assert wheel['meta'] == checkout['meta']
    assert list(wheel['state_dict']) == list(checkout['state_dict'])
    for key, value in checkout['state_dict'].items():
        assert torch.equal(wheel['state_dict'][key], value), key
        assert wheel['state_dict'][key].dtype == value.dtype, key
