"""The datasets a config reads, found one way for every tool.

A dataloader's ``dataset`` may wrap others (``RepeatDataset.dataset``,
``ConcatDataset.datasets``); the datasets that read files are the ones at
the ends. Their folders and split file are resolved as
:class:`~serankdet.datasets.IRSTDDataset` (mmengine's ``BaseDataset``)
resolves them: ``data_prefix`` folders and ``ann_file`` relative to
``data_root``. Used by the tools' checks before a run
(``serankdet.cli.check_data_roots``) and by ``tools/misc/check_dataset.py``.
"""
import os.path as osp
from dataclasses import dataclass
from typing import Iterator, List, Optional, Sequence, Tuple

#: The dataloaders of a config, in the order the tools read them.
DATALOADERS = ('train_dataloader', 'val_dataloader', 'test_dataloader')
#: ``data_prefix`` of :class:`~serankdet.datasets.IRSTDDataset` when a
#: config gives none.
DEFAULT_PREFIX = dict(img_path='images', seg_map_path='masks')


@dataclass(frozen=True)
class ConfigDataset:
    """One dataset that a dataloader of a config reads.

    Attributes:
        key (str): its key path in the config, e.g.
            ``train_dataloader.dataset.datasets.0``.
        cfg (dict): its config.
    """
    key: str
    cfg: dict

    @property
    def loader(self) -> str:
        """The dataloader that reads it (``train_dataloader``, ...)."""
        return self.key.split('.', 1)[0]

    @property
    def data_root(self) -> Optional[str]:
        root = self.cfg.get('data_root')
        return root if isinstance(root, str) else None

    def folder(self, kind: str) -> str:
        """The ``data_prefix`` folder ``kind`` (``img_path`` or
        ``seg_map_path``) under the data root."""
        prefix = self.cfg.get('data_prefix') or DEFAULT_PREFIX
        return osp.join(self.data_root or '',
                        prefix.get(kind, DEFAULT_PREFIX[kind]))

    def given_folders(self) -> List[Tuple[str, str]]:
        """(key path, folder) of the data root and of the ``data_prefix``
        folders the config gives."""
        prefix = self.cfg.get('data_prefix') or {}
        return [(f'{self.key}.data_root', self.data_root)] + [
            (f'{self.key}.data_prefix.{kind}', self.folder(kind))
            for kind, value in prefix.items()
            if isinstance(value, str) and value]

    @property
    def ann_file(self) -> Optional[str]:
        """The split file under the data root, None without one."""
        ann_file = self.cfg.get('ann_file')
        return osp.join(self.data_root or '', ann_file) if ann_file else None


def _leaves(node, key: str) -> Iterator[ConfigDataset]:
    if not isinstance(node, dict):
        return
    children = []
    if isinstance(node.get('dataset'), dict):
        children.append((node['dataset'], f'{key}.dataset'))
    children += [(child, f'{key}.datasets.{index}')
                 for index, child in enumerate(node.get('datasets') or [])]
    if not children:
        yield ConfigDataset(key, node)
    for child, child_key in children:
        yield from _leaves(child, child_key)


def config_datasets(cfg, dataloaders: Sequence[str] = DATALOADERS
                    ) -> List[ConfigDataset]:
    """The datasets that ``dataloaders`` of ``cfg`` read, wrapped datasets
    followed to the ones that read files, in dataloader order."""
    found = []
    for name in dataloaders:
        loader = cfg.get(name)
        if isinstance(loader, dict):
            found += _leaves(loader.get('dataset'), f'{name}.dataset')
    return found
