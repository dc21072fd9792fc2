"""The detectors of model-index.yml: weights present and equal to their
SHA-256, and tools/test.py reproducing every number of their metafiles
on ../shared's copy of the data set."""
import os
import os.path as osp

import pytest

from serankdet.apis.model_zoo import load_model_index, verified_weights
from tests.tool_runner import read_metrics, run_tool_cli

SHIPPED = sorted(load_model_index().values(), key=lambda model: model.name)
#: a metafile's data set -> (folder of ../shared/datasets, split files that
#: re-split it into trainval/test, or None for its own layout)
DATASETS = {'SIRST-5050': ('SIRST', 'dnanet_50_50'), 'SIRST': ('SIRST', None),
            'NUDT-SIRST': ('NUDT-SIRST', None)}
#: metafile metric name -> (IRSTDMetric key, scale of the metafile number)
METRICS = {'IoU': ('IoU', 100), 'nIoU': ('nIoU', 100), 'Pd': ('Pd', 100),
           'Fa': ('Fa', 1)}


def split_layout(source: str, split: str, folder) -> str:
    """``source``'s frames re-split by ``source/splits/<split>/{train,test}
    .txt`` into ``folder/{trainval,test}/{images,masks}``, by links."""
    files = {}
    for part in ('trainval', 'test'):
        for name in os.listdir(osp.join(source, part, 'images')):
            files[osp.splitext(name)[0]] = (part, name)
    for part, listing in (('trainval', 'train'), ('test', 'test')):
        with open(osp.join(source, 'splits', split, f'{listing}.txt')) as f:
            stems = [line.strip() for line in f if line.strip()]
        for sub in ('images', 'masks'):
            os.makedirs(osp.join(folder, part, sub))
            for stem in stems:
                origin, name = files[stem]
                os.symlink(osp.join(source, origin, sub, name),
                           osp.join(folder, part, sub, name))
    return str(folder)


def test_every_shipped_model_has_its_weights():
    assert SHIPPED, 'model-index.yml lists no model'
    for model in SHIPPED:
        assert verified_weights(model) == model.weights
        assert osp.getsize(model.weights) < 10 * 2**20


@pytest.mark.slow
@pytest.mark.parametrize('model', SHIPPED, ids=lambda model: model.name)
def test_metafile_numbers_are_reproduced(model, shared_datasets_dir,
                                         tmp_path):
    """Every ``Results`` entry (one per matching rule) of the metafile."""
    assert model.results, f'{model.name} records no result'
    for index, result in enumerate(model.results):
        folder, split = DATASETS[result['Dataset']]
        data_root = osp.join(shared_datasets_dir, folder)
        if split:
            data_root = split_layout(data_root, split,
                                     tmp_path / f'data{index}')
        metrics = result['Metrics']
        out = str(tmp_path / f'metrics{index}.json')
        assert run_tool_cli(
            'test', model.name, '--work-dir', str(tmp_path / f'work{index}'),
            '--out', out, '--cfg-options',
            f'test_dataloader.dataset.data_root={data_root}',
            f'test_evaluator.matching={metrics["matching"]}') == 0
        measured = read_metrics(out)
        for name, (key, scale) in METRICS.items():
            assert round(scale * measured[f'irstd/{key}'], 2) == \
                metrics[name], (name, metrics['matching'])


def test_testing_a_shipped_model_writes_nothing_beside_its_weights(
        tmp_path):
    """checkpoints/ holds releases: tools/test.py NAME writes into the
    config's work_dirs folder, another checkpoint's test beside it."""
    from tools.test import default_work_dir
    for model in SHIPPED:
        assert default_work_dir(model.weights, 'work_dirs/x') == 'work_dirs/x'
    own = tmp_path / 'epoch_400.pth'
    assert default_work_dir(str(own), 'work_dirs/x') == str(
        tmp_path / 'test_epoch_400')
