"""Turn a training checkpoint into a released weights file.

    python tools/misc/publish_model.py CHECKPOINT NAME [--out-dir checkpoints]
        [--record benchmarks/results/reproduce/<config>_seed<N>.json]

Keeps the weights and the run's metadata (config text, epoch, iteration,
seed, dataset classes), drops the training state (optimizer, schedulers,
generator states, logged scalars), and writes ``<out-dir>/<NAME>-<first 8
hex digits of the SHA-256>.pth`` (mmsegmentation's naming), atomically and
never over an existing file. Prints the path and the full SHA-256. The file
holds only tensors and plain values: it loads with torch's
``weights_only`` loader.

With ``--record`` (a finished record of ``benchmarks/reproduce.py``) the
model is also entered in the model zoo: its entry in
``configs/<algorithm>/metafile.yaml`` (config, weights, SHA-256, training
length, time and hardware, the scored test metrics under both matching
rules) replaces any entry of the same name, and ``model-index.yml`` imports
that metafile. Both files are rewritten atomically.
"""
import argparse
import json
import os
import os.path as osp
import sys

from serankdet.cli import run_cli

#: the metadata kept from a training checkpoint
KEPT_META = ('epoch', 'iter', 'seed', 'cfg', 'experiment_name', 'time',
             'dataset_meta')
#: record metric -> (metafile name, factor): IoU, nIoU and Pd in percent,
#: Fa per million pixels (as the metric reports it)
METAFILE_METRICS = {'IoU': ('IoU', 100), 'nIoU': ('nIoU', 100),
                    'Pd': ('Pd', 100), 'Fa': ('Fa', 1)}
TASK = 'Infrared Small Target Detection'
#: the repository a record's config path is relative to
REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('checkpoint', help='training checkpoint')
    parser.add_argument('name', help="the model's zoo name, e.g. "
                        'acm_sirst-5050')
    parser.add_argument('--out-dir', default='checkpoints')
    parser.add_argument('--record', help='finished record of '
                        'benchmarks/reproduce.py: enter the model in '
                        'configs/<algorithm>/metafile.yaml and '
                        'model-index.yml')
    parser.add_argument('--root', default=REPO_ROOT, help='folder of '
                        'model-index.yml and configs/ to enter the model in '
                        '(default: this repository)')
    return parser.parse_args(argv)


def publish(checkpoint: str, name: str, out_dir: str):
    """Write the released weights; return their path and SHA-256."""
    import torch

    from serankdet.utils import file_sha256, load_checkpoint_file
    state = load_checkpoint_file(checkpoint, map_location='cpu')
    if 'state_dict' not in state:
        raise ValueError(f'{checkpoint} holds no state_dict: not a '
                         'checkpoint of tools/train.py')
    meta = {key: value for key, value in state.get('meta', {}).items()
            if key in KEPT_META}
    os.makedirs(out_dir, exist_ok=True)
    partial = osp.join(out_dir, f'.{name}.partial')
    torch.save(dict(state_dict=state['state_dict'], meta=meta), partial)
    sha256 = file_sha256(partial)
    out = osp.join(out_dir, f'{name}-{sha256[:8]}.pth')
    if osp.exists(out):
        os.remove(partial)
        raise FileExistsError(f'{out} exists already (the same weights '
                              'were published before)')
    os.replace(partial, out)
    return out, sha256


def read_record(path: str) -> dict:
    with open(path, encoding='utf-8') as handle:
        record = json.load(handle)
    if 'final' not in record:
        raise ValueError(f'{path} is the record of an unfinished run '
                         f'(status: {record.get("status")}): finish it with '
                         f'{record.get("command", "benchmarks/reproduce.py")}')
    return record


def dataset_name(config: str) -> str:
    """The test set's name: the last folder of its ``data_root``."""
    from mmengine.config import Config
    data_root = Config.fromfile(config).test_dataloader.dataset.data_root
    return osp.basename(osp.normpath(data_root))


def metafile_entry(name: str, weights: str, sha256: str, record: dict,
                   root: str) -> dict:
    """The metafile's ``Models`` entry of a published reproduction run,
    paths relative to ``root``."""
    dataset = dataset_name(osp.join(REPO_ROOT, record['config']))
    results = []
    for matching, metrics in record['final'].items():
        values = {label: round(factor * metrics[key], 2)
                  for key, (label, factor) in METAFILE_METRICS.items()}
        values['matching'] = matching
        results.append(dict(Task=TASK, Dataset=dataset, Metrics=values))
    return {
        'Name': name,
        'In Collection': osp.basename(osp.dirname(record['config'])),
        'Config': record['config'],
        'Metadata': {
            'Training Data': dataset,
            'Training Schedule': record['schedule'],
            'Seed': record['seed'],
            'Scored Checkpoint': record['scored_checkpoint'],
            'Training Time (h)': round(record['wall_seconds'] / 3600, 2),
            'Training Resources': record['machine'],
            'Training Command': record['command'],
            'SHA256': sha256,
        },
        'Results': results,
        'Weights': osp.relpath(weights, root),
    }


def _read_yaml(path: str) -> dict:
    import yaml
    if not osp.isfile(path):
        return {}
    with open(path, encoding='utf-8') as handle:
        return yaml.safe_load(handle) or {}


def _write_yaml(path: str, content: dict) -> None:
    import yaml
    os.makedirs(osp.dirname(path), exist_ok=True)
    partial = path + '.partial'
    with open(partial, 'w', encoding='utf-8') as handle:
        yaml.safe_dump(content, handle, sort_keys=False, width=100)
    os.replace(partial, path)


def enter_in_zoo(entry: dict, root: str) -> str:
    """Put ``entry`` in its algorithm's metafile (replacing the entry of
    the same name) and the metafile in ``model-index.yml``; return the
    metafile's path relative to ``root``."""
    metafile = osp.join(osp.dirname(entry['Config']), 'metafile.yaml')
    content = _read_yaml(osp.join(root, metafile))
    collection = entry['In Collection']
    collections = content.setdefault('Collections', [])
    if not any(item.get('Name') == collection for item in collections):
        collections.append({
            'Name': collection,
            'README': osp.join(osp.dirname(entry['Config']), 'README.md')})
    models = [model for model in content.get('Models', [])
              if model.get('Name') != entry['Name']]
    content['Models'] = sorted(models + [entry],
                               key=lambda model: model['Name'])
    _write_yaml(osp.join(root, metafile), content)
    index_path = osp.join(root, 'model-index.yml')
    index = _read_yaml(index_path)
    imports = index.setdefault('Import', [])
    if metafile not in imports:
        imports.append(metafile)
        imports.sort()
        _write_yaml(index_path, index)
    return metafile


def main(argv=None):
    args = parse_args(argv)
    record = read_record(args.record) if args.record else None
    out, sha256 = publish(args.checkpoint, args.name, args.out_dir)
    print(f'{out}\nSHA256: {sha256}\nsize: {osp.getsize(out)} bytes')
    if record is not None:
        root = osp.abspath(args.root)
        entry = metafile_entry(args.name, osp.abspath(out), sha256, record,
                               root)
        print(f'entered in {enter_in_zoo(entry, root)} and model-index.yml')


if __name__ == '__main__':
    sys.exit(run_cli(main))
