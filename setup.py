"""Install serankdet. Exact pins for a reproducible install: requirements.txt."""
import os
import os.path as osp

from setuptools import find_packages, setup
from setuptools.command.build_py import build_py


def read_version():
    namespace = {}
    with open(osp.join('serankdet', 'version.py')) as handle:
        exec(handle.read(), namespace)
    return namespace['__version__']


class build_py_with_configs(build_py):
    """Also ship ``configs/`` as ``serankdet/.mim/configs``.

    The OpenMMLab layout (mmseg's ``add_mim_extension`` ships its configs
    as ``mmseg/.mim/configs``): an installed wheel finds the configs
    without the repository, e.g. the checkpoint converters
    (``serankdet.apis.conversion.find_config``).
    The copy goes to the build folder only, never into the source tree; an
    editable install reads the repository's ``configs/`` instead.
    """

    def run(self):
        super().run()
        if getattr(self, 'editable_mode', False) or not osp.isdir('configs'):
            return
        target = osp.join(self.build_lib, 'serankdet', '.mim', 'configs')
        for folder, subfolders, files in os.walk('configs'):
            subfolders[:] = [d for d in subfolders if d != '__pycache__']
            out = osp.join(target, osp.relpath(folder, 'configs'))
            self.mkpath(out)
            for name in files:
                if not name.endswith(('.pyc', '.pyo')):
                    self.copy_file(osp.join(folder, name),
                                   osp.join(out, name))


setup(
    name='serankdet',
    version=read_version(),
    description='OpenMMLab 2.x toolbox for infrared small target detection',
    long_description=open('README.md').read() if osp.exists('README.md') else '',
    long_description_content_type='text/markdown',
    license='Apache-2.0',
    python_requires='>=3.9',
    packages=find_packages(include=['serankdet', 'serankdet.*']),
    cmdclass=dict(build_py=build_py_with_configs),
    # torch is left open so GPU users keep their CUDA build; the tested
    # versions are pinned in requirements.txt.
    install_requires=[
        'torch>=2.1',
        'mmengine==0.10.7',
        'mmcv-lite==2.1.0',
        'mmsegmentation==1.2.2',
        'ftfy==6.3.1',
        'regex==2026.11.15',
        'numpy>=1.24,<3',
        # 4.x and 5.x both work (5.0 changed the shape of findNonZero's
        # result; serankdet.evaluation.functional accepts both). CI runs a
        # smoke subset on the newest allowed versions (.ci/smoke-unpinned).
        'opencv-python>=4.8',
        'scikit-image>=0.21',
        'scipy>=1.10',
        # image headers checked before decoding (serankdet.datasets.image_io)
        'pillow>=9.1',
        # model-index.yml and metafiles (serankdet.apis.model_zoo)
        'pyyaml>=5.4',
        'matplotlib>=3.7',
        'pytorch-optimizer==4.1.0',
    ],
    extras_require=dict(
        # pinned: pytest 9.2 refuses pytest.approx of nested structures,
        # which tests/test_tools/test_infer_tool.py uses
        tests=['pytest==9.0.1'],
        deploy=['onnx==1.23.2', 'onnxruntime==1.31.1', 'onnxscript==0.7.2'],
        tensorboard=['tensorboard']),
)
