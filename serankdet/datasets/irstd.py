"""The folder dataset shared by every IRSTD benchmark."""
import logging
import os
import os.path as osp
from typing import Dict, Iterator, List, Optional, Sequence, Tuple

from mmengine.logging import print_log
from mmseg.datasets import BaseSegDataset

from serankdet.registry import DATASETS
from .image_io import (IMG_EXTENSIONS, InvalidSampleError, imread_gray,
                       imread_mask)
from .transforms.copy_paste import TargetCopyPaste, build_target_bank
from .transforms.loading import LoadIRSTDImageFromFile


def read_split_file(path: str,
                    img_suffix: Sequence[str] = IMG_EXTENSIONS) -> List[str]:
    """The sorted stems a split file lists, one per line (file names with an
    image extension of ``img_suffix`` or bare stems; CRLF and blank lines
    are fine)."""
    if not osp.isfile(path):
        raise FileNotFoundError(
            f'split file {path} does not exist (ann_file is relative to '
            'data_root)')
    with open(path, encoding='utf-8') as f:
        lines = [line.strip() for line in f]
    suffixes = _lower_suffixes(img_suffix)
    stems = set()
    for line in lines:
        if line:
            root, ext = osp.splitext(line)
            stems.add(root if ext.lower() in suffixes else line)
    return sorted(stems)


@DATASETS.register_module()
class IRSTDDataset(BaseSegDataset):
    """Images and binary target masks paired by file stem.

    The common IRSTD layout is ``<data_root>/{trainval,test}/{images,masks}``
    (select one split with ``data_prefix``); the BasicIRSTD layout
    ``<data_root>/{images,masks}`` plus split files is selected with
    ``ann_file``. Example::

        dict(type='IRSTDDataset', data_root='datasets/SIRST',
             data_prefix=dict(img_path='test/images',
                              seg_map_path='test/masks'))

    An image ``Misc_1.bmp`` is paired with the mask of the same stem whatever
    its extension (``Misc_1.png``). Samples are sorted by stem. Omitting
    ``seg_map_path`` indexes images only (inference, no metrics).

    Invalid samples are an image without mask, a split-file entry without
    image and, when files are checked, an image or mask that cannot be
    decoded (missing, corrupt, truncated, unsupported pixel type) or a mask
    whose size differs from its image. Checking a file decodes it entirely,
    with the reader the loading transforms use
    (:func:`~serankdet.datasets.image_io.imread_unchanged`), so a file that
    passes loads. ``on_invalid`` says what to do with invalid samples:

    * ``'raise'`` (default): indexing raises an error naming the first
      invalid file (and how many more there are). Files are decoded while
      indexing only with ``check_files=True``; otherwise an unusable file
      raises when its sample is loaded.
    * ``'skip'``: every split (train, val and test alike) decodes all its
      files while indexing (``check_files`` is implied) and drops the
      invalid samples, with one warning in the log that gives their number
      and each file with its reason. A sample is never replaced by another
      one, so ``len()`` is the number of valid samples and each of them is
      returned exactly once by the indices ``0 .. len() - 1``. A file that
      fails when loaded even so (changed or removed after indexing) raises
      an error naming it in a ``test_mode`` dataset, which must score every
      sample once; a training dataset (``test_mode=False``) logs one
      warning per file (per data-loader worker) and returns None, so that
      mmengine draws another sample. Evaluation datasets should therefore
      set ``test_mode=True``.

    Decoding every file takes about as long as one pass over the dataset
    at load time (a few ms per image).

    A :class:`~serankdet.datasets.transforms.TargetCopyPaste` in the
    pipeline pastes the targets of this dataset's samples: the dataset reads
    them once, when it indexes its samples (in the main process, before the
    data-loader workers start), and hands them to the transform.

    Args:
        data_prefix (dict): ``img_path`` (and optionally ``seg_map_path``)
            folders, relative to ``data_root``.
        ann_file (str): optional split file, relative to ``data_root``: one
            stem per line (a trailing image extension is ignored; CRLF and
            blank lines are fine). Empty: every image of ``img_path``.
        img_suffix (Sequence[str]): image extensions to index
            (case-insensitive).
        seg_map_suffix (Sequence[str]): mask extensions to index.
        on_invalid (str): ``'raise'`` or ``'skip'`` (see above).
        check_files (bool): decode every image and mask while indexing;
            always on with ``on_invalid='skip'``.
        **kwargs: the remaining :class:`mmseg.datasets.BaseSegDataset`
            arguments (``data_root``, ``pipeline``, ``test_mode``,
            ``indices``, ``backend_args``, ...).
    """

    METAINFO = dict(
        classes=('background', 'target'), palette=[[0, 0, 0], [255, 255, 255]])

    def __init__(self,
                 data_prefix: dict = dict(img_path='images',
                                          seg_map_path='masks'),
                 ann_file: str = '',
                 img_suffix: Sequence[str] = IMG_EXTENSIONS,
                 seg_map_suffix: Sequence[str] = IMG_EXTENSIONS,
                 on_invalid: str = 'raise',
                 check_files: bool = False,
                 **kwargs) -> None:
        if on_invalid not in ('raise', 'skip'):
            raise ValueError(
                f"on_invalid must be 'raise' or 'skip', got {on_invalid!r}")
        self.on_invalid = on_invalid
        self.check_files = check_files or on_invalid == 'skip'
        self._warned_paths = set()
        super().__init__(
            data_prefix=data_prefix,
            ann_file=ann_file,
            img_suffix=_lower_suffixes(img_suffix),
            seg_map_suffix=_lower_suffixes(seg_map_suffix),
            **kwargs)

    def full_init(self) -> None:
        """Index the samples, then give the pipeline's TargetCopyPaste
        transforms the targets of these samples, read with the colour type
        of the pipeline's LoadIRSTDImageFromFile."""
        if self._fully_initialized:
            return
        super().full_init()
        transforms = list(_transforms(self.pipeline.transforms))
        pasters = [t for t in transforms if isinstance(t, TargetCopyPaste)]
        if pasters:
            color_type = next((t.color_type for t in transforms
                               if isinstance(t, LoadIRSTDImageFromFile)),
                              'gray')
            bank = build_target_bank(
                (self.get_data_info(i) for i in range(len(self))),
                self.backend_args, color_type)
            for paster in pasters:
                paster.bank = bank

    def load_data_list(self) -> List[dict]:
        """Index the folders; one dict per sample, sorted by stem.

        Each dict holds ``img_path``, ``seg_map_path`` (None without masks),
        ``img_id`` (the stem) and the mmseg keys ``label_map``,
        ``reduce_zero_label`` and ``seg_fields``.
        """
        img_dir = self.data_prefix.get('img_path')
        ann_dir = self.data_prefix.get('seg_map_path')
        images = _index_folder(img_dir, self.img_suffix, 'image')
        masks = (None if ann_dir is None else _index_folder(
            ann_dir, self.seg_map_suffix, 'mask'))
        stems = (self._read_split_file() if self.ann_file else sorted(images))

        data_list, invalid = [], []
        for stem in stems:
            if stem not in images:
                invalid.append(FileNotFoundError(
                    f'{self.ann_file} lists {stem!r} but {img_dir} has no '
                    f'image {stem}{{{",".join(self.img_suffix)}}}'))
                continue
            img_path = osp.join(img_dir, images[stem])
            seg_map_path = None
            if masks is not None:
                if stem not in masks:
                    invalid.append(FileNotFoundError(
                        f'image {img_path} has no mask: expected a file '
                        f'named {stem}.* in {ann_dir}'))
                    continue
                seg_map_path = osp.join(ann_dir, masks[stem])
            if self.check_files:
                error = _check_pair(img_path, seg_map_path,
                                    self.backend_args)
                if error is not None:
                    invalid.append(error)
                    continue
            data_list.append(
                dict(img_path=img_path, seg_map_path=seg_map_path,
                     img_id=stem, label_map=self.label_map,
                     reduce_zero_label=self.reduce_zero_label,
                     seg_fields=[]))
        self._handle_invalid(invalid)
        if not data_list:
            raise ValueError(f'no usable image found in {img_dir}')
        return data_list

    def prepare_data(self, idx: int):
        """Run the pipeline on sample ``idx``.

        With ``on_invalid='skip'`` a file that fails to load although it
        passed the check while indexing raises in ``test_mode``; otherwise
        it is logged once and None is returned (mmengine then draws another
        training sample).
        """
        try:
            return super().prepare_data(idx)
        except (InvalidSampleError, FileNotFoundError) as error:
            if self.on_invalid == 'raise':
                raise
            if self.test_mode:
                raise type(error)(
                    f'{error}. The file was valid when the dataset was '
                    'indexed (changed since?); a test-mode dataset does not '
                    'replace a sample by another one, so that each sample '
                    'is scored once.') from error
            path = self.get_data_info(idx)['img_path']
            if path not in self._warned_paths:
                self._warned_paths.add(path)
                print_log(
                    f'{type(self).__name__}: cannot load sample {path} '
                    f'({error}); training on another sample instead',
                    logger='current', level=logging.WARNING)
            return None

    def _read_split_file(self) -> List[str]:
        return read_split_file(self.ann_file, self.img_suffix)

    def _handle_invalid(self, invalid: List[Exception]) -> None:
        if not invalid:
            return
        if self.on_invalid == 'raise':
            first = invalid[0]
            more = (f' ({len(invalid) - 1} more invalid samples)'
                    if len(invalid) > 1 else '')
            raise type(first)(
                f"{first}{more}. Fix the data or build the dataset with "
                "on_invalid='skip' to drop such samples.")
        print_log(
            f'{type(self).__name__}: skipped {len(invalid)} invalid samples '
            f"in {self.data_prefix.get('img_path')} (on_invalid='skip'):\n" +
            '\n'.join(f'  {error}' for error in invalid),
            logger='current', level=logging.WARNING)


def _transforms(transforms) -> Iterator:
    """The transforms of a pipeline, those inside wrappers (mmcv's
    RandomApply, RandomChoice, ...: a ``transforms`` attribute) included."""
    for transform in transforms:
        yield transform
        inner = getattr(transform, 'transforms', None)
        if inner is not None:
            yield from _transforms(getattr(inner, 'transforms', inner))


def _lower_suffixes(suffixes) -> Tuple[str, ...]:
    if isinstance(suffixes, str):
        suffixes = (suffixes, )
    return tuple(s.lower() for s in suffixes)


def _index_folder(folder: str, suffixes: Tuple[str, ...],
                  kind: str) -> Dict[str, str]:
    """Map stem -> file name for the files of ``folder`` with ``suffixes``."""
    if not osp.isdir(folder):
        raise FileNotFoundError(
            f'{kind} folder {folder} does not exist. Check data_root and '
            'data_prefix (see datasets/README.md for the expected layout).')
    index = {}
    for name in os.listdir(folder):
        stem, ext = osp.splitext(name)
        if ext.lower() not in suffixes or name.startswith('.'):
            continue
        if stem in index:
            raise ValueError(
                f'{kind} folder {folder} holds two files with stem {stem!r} '
                f'({index[stem]}, {name}); keep one')
        index[stem] = name
    return index


def _check_pair(img_path: str, seg_map_path: Optional[str],
                backend_args: Optional[dict]) -> Optional[Exception]:
    """The error that makes a sample invalid, decoding both files as the
    loading transforms do, or None."""
    try:
        img = imread_gray(img_path, backend_args)
        if seg_map_path is None:
            return None
        mask = imread_mask(seg_map_path, backend_args)
    except (InvalidSampleError, FileNotFoundError) as error:
        return error
    if mask.shape != img.shape:
        return InvalidSampleError(
            f'mask {seg_map_path} is {mask.shape[1]}x{mask.shape[0]} but its '
            f'image {img_path} is {img.shape[1]}x{img.shape[0]} (WxH)')
    return None
