"""Every config that existed before the configs were rewritten to state
each setting once (issue 14) builds to what it built then.

``tests/data/config_snapshot.json`` holds, for each config outside
``configs/_base_`` at that time, the fully built content (``Config.fromfile(...)``,
inheritance resolved, ``to_dict()``) as it was before the rewrite. Tuples are
stored as ``{"__tuple__": [...]}`` so that a tuple turned into a list (or
back) counts as a change. Regenerate it only on purpose, from the tree whose
configs are the reference::

    python tests/test_configs/test_config_snapshot.py --write
"""
import argparse
import copy
import glob
import json
import os.path as osp
import re

import pytest
from mmengine.config import Config

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG_DIR = osp.join(REPO_ROOT, 'configs')
SNAPSHOT = osp.join(REPO_ROOT, 'tests', 'data', 'config_snapshot.json')


#: ``<GPUs>xb<batch per GPU>`` in a config name
NAME_BATCH = re.compile(r'_(\d+)xb(\d+)-')


def name_total_batch(name: str) -> int:
    """GPUs x batch per GPU of a config name (``..._1xb16-400e_...``)."""
    gpus, batch = NAME_BATCH.search(name).groups()
    return int(gpus) * int(batch)


def config_names():
    """Every config outside ``_base_``, relative to ``configs/``."""
    names = []
    for path in glob.glob(osp.join(CONFIG_DIR, '**', '*.py'), recursive=True):
        name = osp.relpath(path, CONFIG_DIR).replace(osp.sep, '/')
        if not name.startswith('_base_/'):
            names.append(name)
    return sorted(names)


def jsonable(obj):
    """``obj`` with tuples tagged, dicts with sorted keys; anything that
    JSON cannot hold exactly raises."""
    if isinstance(obj, dict):
        return {str(k): jsonable(obj[k]) for k in sorted(obj, key=str)}
    if isinstance(obj, tuple):
        return {'__tuple__': [jsonable(v) for v in obj]}
    if isinstance(obj, list):
        return [jsonable(v) for v in obj]
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    raise TypeError(f'cannot snapshot {type(obj).__name__}: {obj!r}')


def build(name):
    cfg = Config.fromfile(osp.join(CONFIG_DIR, name))
    # a JSON round trip, so that the built config compares like the stored
    return json.loads(json.dumps(jsonable(cfg.to_dict())))


def write_snapshot():
    snapshot = {name: build(name) for name in _snapshot_names()}
    with open(SNAPSHOT, 'w', encoding='utf-8') as f:
        json.dump(snapshot, f, indent=1, sort_keys=True)
        f.write('\n')
    return snapshot


def _load_snapshot():
    with open(SNAPSHOT, encoding='utf-8') as f:
        return json.load(f)


def _snapshot_names():
    """The configs in the snapshot (configs added later have no "before";
    they are checked by their own model's tests)."""
    if not osp.isfile(SNAPSHOT):
        return config_names()
    return sorted(_load_snapshot())


def test_every_snapshotted_config_still_exists():
    missing = sorted(set(_snapshot_names()) - set(config_names()))
    assert not missing, f'configs removed or renamed: {missing}'


@pytest.mark.parametrize('name', _snapshot_names())
def test_config_builds_as_before(name):
    snapshot = _load_snapshot()
    before = _deliberate_changes(
        name, _bank_from_the_dataset(copy.deepcopy(snapshot[name])))
    after = build(name)
    assert after == before, _first_difference(before, after)


LOADERS = ('train_dataloader', 'val_dataloader', 'test_dataloader')
# the reference loaders' batch rules (issue 13): SeRankDet's build_dataset
# drops the last partial batch; DATransNet's train.py skips a batch of one,
# which SIRST's 341 = 85 x 4 + 1 makes once per epoch
DROP_LAST_SINCE_ISSUE_13 = (
    'serankdet/serankdet_1xb4-1500e_sirst-512x512.py',
    'serankdet/serankdet_1xb4-500e_irstd1k-512x512.py',
    'serankdet/serankdet_1xb8-1500e_nudt-sirst-256x256.py',
    'serankdet/serankdet_1xb8-300e_sirst-aug-256x256.py',
    'datransnet/datransnet_1xb4-400e_sirst-256x256.py',
)

#: the gray-level statistics of their frames that the dataset bases state
#: since issue 32 (``img_norm_cfg``, BasicIRSTD's; before, the model bases
#: of ACM and SCTransNet held SIRST's), by data root
IMG_NORM_CFG_SINCE_ISSUE_32 = {
    'datasets/SIRST': {'mean': 101.06385040283203,
                       'std': 34.619606018066406},
    'datasets/NUDT-SIRST': {'mean': 107.80905151367188,
                            'std': 33.02274703979492},
    'datasets/IRSTD-1k': {'mean': 87.4661865234375,
                          'std': 39.71953201293945},
}
#: the configs that read frames as RGB since issue 31, as the references'
#: PIL ``convert('RGB')`` (``recipes.with_color_type``), with the pipeline
#: variables they switched beside their dataloaders' pipelines
_SERANKDET_RGB = ('train_pipeline', 'test_pipeline', 'legacy_test_pipeline')
_SAMSPL_RGB = ('train_pipeline', 'test_pipeline')
RGB_SINCE_ISSUE_31 = {
    'serankdet/serankdet_1xb4-1500e_sirst-512x512.py': _SERANKDET_RGB,
    'serankdet/serankdet_1xb4-500e_irstd1k-512x512.py': _SERANKDET_RGB,
    'serankdet/serankdet_1xb8-1500e_nudt-sirst-256x256.py': _SERANKDET_RGB,
    'serankdet/serankdet_1xb8-300e_sirst-aug-256x256.py': _SERANKDET_RGB,
    'samspl/samspl-l_1xb12-300e_nudt-sirst-256x256.py': _SAMSPL_RGB,
    'samspl/samspl-s_1xb12-300e_nudt-sirst-256x256.py': _SAMSPL_RGB,
    'samspl/samspl-t_1xb12-300e_irstd1k-256x256.py': _SAMSPL_RGB,
    'samspl/samspl-t_1xb12-300e_irstdid-sky-256x256.py': _SAMSPL_RGB,
    'samspl/samspl-t_1xb12-300e_nudt-sea-256x256.py': _SAMSPL_RGB,
    'samspl/samspl-t_1xb12-300e_nudt-sirst-256x256.py': _SAMSPL_RGB,
    'samspl/samspl-t_1xb4-400i_nudt-sirst-128x128.py': _SAMSPL_RGB,
}
#: configs that set a data root of their own over ``irstd_common.py``
#: instead of inheriting their dataset's base
OWN_DATA_ROOT = ('serankdet/serankdet-w8_1xb4-400i_sirst-256x256.py', )


def _deliberate_changes(name, before):
    """The settings changed on purpose since the snapshot (issues 17, 13),
    applied to the old config:

    * every config runs the common hooks of ``default_hooks.py`` (SAM-SPL
      ran mmengine's defaults, which differ only in having no
      visualization hook);
    * the training ETA comes from the recent iteration times
      (``RecentIterTimerHook``, same timing otherwise);
    * iteration-based training draws from ``InfiniteSampler`` (the same
      shuffled stream without mmengine's pause and warning at every epoch
      end of a finite sampler);
    * the configs of ``DROP_LAST_SINCE_ISSUE_13`` drop the last partial
      training batch, as the reference loaders do;
    * mmengine's ``Kaiming`` / ``Xavier`` initialisers (SAM-SPL's and
      DNANet's heads, SCTransNet's whole model) run inside ``WeightsOnly``,
      so that biases keep PyTorch's default as in the references (issue 13).
    * every config states the total batch of its name as
      ``auto_scale_lr.base_batch_size`` (issue 33).
    * the dataset bases of SIRST, NUDT-SIRST and IRSTD-1k state the
      statistics of their frames, ``img_norm_cfg`` (issue 32).
    * the configs of ``RGB_SINCE_ISSUE_31`` load frames as RGB, with the
      image pad value of ``Pad`` given per channel (issue 31).
    """
    hooks = before['default_hooks']
    if 'timer' not in hooks:
        # SAM-SPL's schedule replaced the common hooks by mmengine's
        # defaults (the same timer, scheduler and sampler-seed hooks, no
        # visualization hook); it now runs the common hooks
        hooks.update(param_scheduler={'type': 'ParamSchedulerHook'},
                     sampler_seed={'type': 'DistSamplerSeedHook'},
                     timer={'type': 'IterTimerHook'},
                     visualization={'type': 'IRSTDVisualizationHook',
                                    'draw': False})
    assert hooks['timer'] == {'type': 'IterTimerHook'}
    hooks['timer']['type'] = 'RecentIterTimerHook'
    if before['train_cfg'].get('type') == 'IterBasedTrainLoop':
        sampler = before['train_dataloader']['sampler']
        assert sampler == {'type': 'DefaultSampler', 'shuffle': True}
        sampler['type'] = 'InfiniteSampler'
    if name in DROP_LAST_SINCE_ISSUE_13:
        before['train_dataloader']['drop_last'] = True
    before['auto_scale_lr'] = {'enable': False,
                               'base_batch_size': name_total_batch(name)}
    if name not in OWN_DATA_ROOT and \
            before['data_root'] in IMG_NORM_CFG_SINCE_ISSUE_32:
        before['img_norm_cfg'] = IMG_NORM_CFG_SINCE_ISSUE_32[
            before['data_root']]
    if name in RGB_SINCE_ISSUE_31:
        for loader in LOADERS:
            _load_rgb(before[loader]['dataset']['pipeline'])
        for variable in RGB_SINCE_ISSUE_31[name]:
            _load_rgb(before[variable])
    model = before['model']
    head = model['decode_head']
    if head.get('init_cfg'):
        head['init_cfg'] = _weights_only(head['init_cfg'])
    if isinstance(model.get('init_cfg'), list):
        model['init_cfg'] = [
            _weights_only(init) if init['type'] == 'Kaiming' else init
            for init in model['init_cfg']]
    return before


def _load_rgb(pipeline):
    """Switch a pipeline of the snapshot to RGB frames, in place, as
    ``recipes.with_color_type(pipeline, 'rgb')`` does."""
    for step in pipeline:
        if step['type'] == 'LoadIRSTDImageFromFile':
            step['color_type'] = 'rgb'
        elif step['type'] == 'Pad':
            value = step['pad_val']['img']
            step['pad_val']['img'] = {'__tuple__': [value] * 3}


def _weights_only(init):
    """An initialiser of the snapshot wrapped as the configs now state it
    (the bias it set, 0, is no longer given)."""
    assert init['type'] in ('Kaiming', 'Xavier') and init.get('bias', 0) == 0
    return {'type': 'WeightsOnly',
            'init': {k: v for k, v in init.items() if k != 'bias'}}


def _bank_from_the_dataset(before):
    """The one representation that changed on purpose, normalised.

    TargetCopyPaste used to read its target bank itself, from its own
    ``data_root`` / ``data_prefix`` / ``ann_file``, which configs repeated
    from the dataset. Now the dataset whose pipeline holds the transform
    hands it the targets of its own samples, and the transform has no such
    arguments. The meaning is the same where the old arguments named the
    dataset the transform runs in: assert that, then drop them from the old
    config.
    """
    def strip(pipeline, dataset):
        for t in pipeline:
            if t['type'] == 'TargetCopyPaste':
                for key, default in (('data_root', None),
                                     ('data_prefix', None),
                                     ('ann_file', '')):
                    assert t.pop(key, default) == dataset.get(key, default)

    for loader in LOADERS:
        dataset = before[loader]['dataset']
        strip(dataset.get('pipeline', []), dataset)
    # the config variable that the training dataloader's pipeline copies
    strip(before.get('train_pipeline', []),
          before['train_dataloader']['dataset'])
    return before


@pytest.mark.parametrize('name', config_names())
def test_copy_paste_pastes_training_targets_only(name):
    """TargetCopyPaste pastes the targets of the dataset it runs in: it must
    run in the training split only (the reference leaks test targets)."""
    cfg = build(name)
    for loader in LOADERS:
        dataset = cfg[loader]['dataset']
        pasters = [t for t in dataset.get('pipeline', [])
                   if t['type'] == 'TargetCopyPaste']
        if pasters:
            assert loader == 'train_dataloader'
            assert dataset['data_prefix']['img_path'] == 'trainval/images'
            assert not dataset.get('ann_file')


def _first_difference(before, after, path='cfg'):
    """Where two built configs first differ (for the assertion message)."""
    if type(before) is not type(after):
        return f'{path}: {before!r} -> {after!r}'
    if isinstance(before, dict):
        for key in sorted(set(before) | set(after)):
            if key not in after:
                return f'{path}.{key} removed (was {before[key]!r})'
            if key not in before:
                return f'{path}.{key} added: {after[key]!r}'
            if before[key] != after[key]:
                return _first_difference(before[key], after[key],
                                         f'{path}.{key}')
    if isinstance(before, list):
        if len(before) != len(after):
            return f'{path}: {len(before)} items -> {len(after)}'
        for i, (b, a) in enumerate(zip(before, after)):
            if b != a:
                return _first_difference(b, a, f'{path}[{i}]')
    return f'{path}: {before!r} -> {after!r}'


if __name__ == '__main__':
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--write', action='store_true',
                        help=f'write {osp.relpath(SNAPSHOT, REPO_ROOT)}')
    if parser.parse_args().write:
        print(f'{len(write_snapshot())} configs written to {SNAPSHOT}')
