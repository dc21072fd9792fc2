"""The public IRSTD datasets as they are distributed, and their conversion to
the common layout ``<dst>/{trainval,test}/{images,masks}/<stem>.<ext>``.

Each dataset (:class:`DatasetSpec`, table :data:`DATASET_RELEASES`) lists
the forms it is distributed in (:class:`ReleaseForm`): the authors' own
release, BasicIRSTD's layout, SAM-SPL's. A form says where the images and
masks of each output split are (:class:`Part`), which suffix a mask's name
adds to its image's stem (SIRST's ``Misc_1_pixels0.png``) and which split
files define ``trainval`` and ``test``. :func:`convert_release` finds the
form in a folder or an archive (``.zip``, ``.tar[.gz|.bz2|.xz]``; archives
inside it, such as SIRST's ``images.zip`` and ``masks.zip``, are opened
too), checks every pair and writes hard links to (or copies of) the files.
The source is never changed; nothing is written before every check passed.
"""
import fnmatch
import glob
import json
import os
import os.path as osp
import shutil
import tarfile
import tempfile
import zipfile
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

from PIL import Image

from serankdet.utils.file_hash import file_sha256
from serankdet.utils.file_lock import LockHeldError, exclusive_lock
from .image_io import IMG_EXTENSIONS

#: Written into every converted dataset: what was converted, the files
#: written and their SHA-256 (a later conversion may replace exactly those,
#: unchanged).
MARKER = '.serankdet_conversion.json'

#: Most bytes one archive may extract (its members' uncompressed sizes):
#: 64 GiB, several times the largest release.
MAX_EXTRACT_BYTES = 64 << 30

#: Folders a conversion into ``<parent>/<name>`` works in beside it: the
#: extracted archives, the output being assembled, the replaced conversion
#: being removed (``.<name>.extract-XXXX`` ...).
_WORK_FOLDERS = ('extract', 'partial', 'old')

ARCHIVE_SUFFIXES = ('.zip', '.tar', '.tar.gz', '.tgz', '.tar.bz2',
                    '.tar.xz')

#: Files of archives made on macOS and Windows that are not part of a
#: release.
_JUNK_NAMES = ('.DS_Store', 'Thumbs.db', 'desktop.ini')

#: How deep below the source the root of a release is looked for (GitHub
#: archives add ``<repo>-master/``, some releases ``<NAME>/<NAME>/``).
_MAX_DEPTH = 2


class DatasetConversionError(ValueError):
    """A release that cannot be converted as it is; the message lists every
    problem and what to do."""


@dataclass(frozen=True)
class Part:
    """Where one output split comes from, relative to the release root.

    Args:
        image_dirs: folders holding the images (several: SIRST-V2's
            ``images/targets`` and ``images/backgrounds``).
        mask_dir: folder holding the masks.
        split_files: the split file, as alternatives tried in turn (each may
            be a glob that must match one file); empty: every image of
            ``image_dirs`` belongs to the split.
    """
    image_dirs: Tuple[str, ...]
    mask_dir: str
    split_files: Tuple[str, ...] = ()


@dataclass(frozen=True)
class ReleaseForm:
    """One way a dataset is distributed.

    Args:
        name: short name used in messages.
        description: the layout in words.
        splits: split name -> {'trainval': Part, 'test': Part}; the first
            is the default.
        mask_suffixes: what a mask's file stem may add to its image's stem.
        counts: split name -> published (trainval, test) pair counts.
        split_hint: set where the release holds no split files: where to
            find them (``--split-dir``).
    """
    name: str
    description: str
    splits: Dict[str, Dict[str, Part]]
    mask_suffixes: Tuple[str, ...] = ()
    counts: Dict[str, Tuple[int, int]] = field(default_factory=dict)
    split_hint: str = ''


@dataclass(frozen=True)
class DatasetSpec:
    """A dataset: its folder name, config, home page and release forms
    (tried in order). ``folder_names``: what its folder is called in the
    releases and bundles (BasicIRSTD's, SAM-SPL's hold several datasets in
    one layout), case aside. ``mask_fixes`` maps a stem whose mask is known
    to be wrong in a release to the fix."""
    name: str
    config: str
    homepage: str
    forms: Tuple[ReleaseForm, ...]
    folder_names: Tuple[str, ...] = ()
    mask_fixes: Dict[str, str] = field(default_factory=dict)


def _listed(image_dirs: Sequence[str], mask_dir: str,
            trainval: Sequence[str], test: Sequence[str]) -> Dict[str, Part]:
    """Both splits from one image and mask folder and two split files."""
    return dict(trainval=Part(tuple(image_dirs), mask_dir, tuple(trainval)),
                test=Part(tuple(image_dirs), mask_dir, tuple(test)))


def _basicirstd(counts: Tuple[int, int],
                mask_suffixes: Tuple[str, ...] = ()) -> ReleaseForm:
    """BasicIRSTD's layout (github.com/XinyiYing/BasicIRSTD), shared by
    every dataset it distributes (and by re-arranged copies, some with
    suffixed mask names)."""
    return ReleaseForm(
        'BasicIRSTD', "BasicIRSTD's layout: images/, masks/, "
        'img_idx/{train,test}_<NAME>.txt',
        dict(img_idx=_listed(['images'], 'masks',
                             ['img_idx/train_*.txt', 'img_idx/train.txt'],
                             ['img_idx/test_*.txt', 'img_idx/test.txt'])),
        mask_suffixes=mask_suffixes, counts=dict(img_idx=counts))


def _images_masks(name: str, description: str, image_dir: str,
                  mask_dir: str, counts: Tuple[int, int],
                  split_hint: str) -> ReleaseForm:
    """Image and mask folders with the split files kept elsewhere (SAM-SPL
    keeps them in its repository): split ``samspl``, train.txt / test.txt
    from --split-dir (or beside the folders)."""
    return ReleaseForm(
        name, description,
        dict(samspl=_listed([image_dir], mask_dir,
                            ['train.txt', 'trainval.txt'], ['test.txt'])),
        counts=dict(samspl=counts), split_hint=split_hint)


_SAMSPL = 'https://github.com/fuyimin96/SAM-SPL'


def _samspl(set_config: str, counts: Tuple[int, int]) -> ReleaseForm:
    return _images_masks(
        'SAM-SPL', "SAM-SPL's layout: images/, masks/ (split files in "
        "SAM-SPL's repository)", 'images', 'masks', counts,
        f"SAM-SPL's split: git clone {_SAMSPL} and add "
        f'--split-dir SAM-SPL/dataset/set_configs/{set_config}')


_SIRST_V2_MASK = ('https://raw.githubusercontent.com/YimianDai/open-sirst-v2/'
                  'master/annotations/masks/Misc_111_pixels0.png')

DATASET_RELEASES: Dict[str, DatasetSpec] = dict(
    sirst=DatasetSpec(
        'SIRST', 'configs/_base_/datasets/sirst.py',
        'https://github.com/YimianDai/sirst',
        (ReleaseForm(
            'SIRST', "the authors' release: images/ (or images.zip), "
            'masks/<stem>_pixels0.png (or masks.zip), idx_427/ and idx_320/ '
            'split files',
            dict(idx_427=_listed(['images'], 'masks', ['idx_427/trainval.txt'],
                                 ['idx_427/test.txt']),
                 idx_320=_listed(['images'], 'masks', ['idx_320/trainval.txt'],
                                 ['idx_320/test.txt'])),
            mask_suffixes=('_pixels0', ),
            counts=dict(idx_427=(341, 86), idx_320=(224, 96))),
         ReleaseForm(
             'DNANet', "DNANet's NUAA-SIRST: images/, masks/, 50_50/"
             '{train,test}.txt',
             dict(dnanet_50_50=_listed(['images'], 'masks',
                                       ['50_50/train.txt'],
                                       ['50_50/test.txt'])),
             mask_suffixes=('_pixels0', ),
             counts=dict(dnanet_50_50=(213, 214))),
         _basicirstd((213, 214))),
        folder_names=('SIRST', 'sirst-master', 'NUAA-SIRST', 'SIRST-v1'),
        mask_fixes=dict(Misc_111=(
            'a known mistake of the SIRST v1 release (the mask is drawn at '
            "592x400); the authors' SIRST-V2 release has the corrected "
            f'325x220 mask: download {_SIRST_V2_MASK} and add --replace-mask '
            'Misc_111=Misc_111_pixels0.png'))),
    nudt_sirst=DatasetSpec(
        'NUDT-SIRST', 'configs/_base_/datasets/nudt_sirst.py',
        'https://github.com/YeRen123455/Infrared-Small-Target-Detection',
        (ReleaseForm(
            'DNANet', "the authors' (DNANet's) release: images/, masks/, "
            '50_50/{train,test}.txt',
            dict(dnanet_50_50=_listed(['images'], 'masks',
                                      ['50_50/train.txt'],
                                      ['50_50/test.txt'])),
            counts=dict(dnanet_50_50=(663, 664))),
         _basicirstd((663, 664)),
         _samspl('NUDT-SIRST', (663, 664))),
        folder_names=('NUDT-SIRST', )),
    irstd1k=DatasetSpec(
        'IRSTD-1k', 'configs/_base_/datasets/irstd1k.py',
        'https://github.com/RuiZhang97/ISNet',
        (ReleaseForm(
            'ISNet', "the authors' (ISNet's) release: IRSTD1k_Img/, "
            'IRSTD1k_Label/, trainval.txt, test.txt',
            dict(isnet=_listed(['IRSTD1k_Img'], 'IRSTD1k_Label',
                               ['trainval.txt'], ['test.txt'])),
            counts=dict(isnet=(800, 201))),
         _basicirstd((800, 201)),
         _samspl('IRSTD-1k', (800, 201))),
        folder_names=('IRSTD-1k', 'IRSTD1k')),
    sirst_aug=DatasetSpec(
        'SIRST-AUG', 'configs/_base_/datasets/sirst_aug.py',
        'https://github.com/Tianfang-Zhang/AGPCNet',
        (ReleaseForm(
            'AGPCNet', "the authors' (AGPCNet's) release: trainval/ and "
            'test/, each with images/ and masks/ (mask names may end in '
            '_mask)',
            dict(folders=dict(trainval=Part(('trainval/images', ),
                                            'trainval/masks'),
                              test=Part(('test/images', ), 'test/masks'))),
            mask_suffixes=('_mask', ),
            counts=dict(folders=(8525, 545))),
         _basicirstd((8525, 545), mask_suffixes=('_mask', ))),
        folder_names=('SIRST-AUG', 'sirst_aug', 'SIRSTAUG')),
    nudt_sea=DatasetSpec(
        'NUDT-SIRST-Sea', 'configs/_base_/datasets/nudt_sea.py',
        'https://github.com/TianhaoWu16/Multi-level-TransUNet-for-Space-'
        'based-Infrared-Tiny-ship-Detection',
        (ReleaseForm(
            'MTU-Net', "the authors' (MTU-Net's) release: images/, masks/, "
            'idx_4961+847/{train,test}.txt',
            {'idx_4961+847': _listed(['images'], 'masks',
                                     ['idx_4961+847/train.txt'],
                                     ['idx_4961+847/test.txt'])},
            counts={'idx_4961+847': (4961, 847)}),
         _basicirstd((4961, 847)),
         _samspl('NUDT-sea', (4961, 847))),
        folder_names=('NUDT-SIRST-Sea', 'NUDT-sea')),
    irstdid_sky=DatasetSpec(
        'IRSTDID-SKY', 'configs/_base_/datasets/irstdid_sky.py',
        'https://github.com/xdFai/IRSTDID-800',
        (_images_masks(
            'IRSTDID-800', "the authors' IRSTDID-800 release: "
            'IRSTDID-SKY/Images/, IRSTDID-SKY/Masks/ (no split files; '
            "SAM-SPL's split)", 'Images', 'Masks', (402, 98),
            f"the release has no split; SAM-SPL's: git clone {_SAMSPL} and "
            'add --split-dir SAM-SPL/dataset/set_configs/IRSTDID-SKY'),
         _samspl('IRSTDID-SKY', (402, 98))),
        folder_names=('IRSTDID-SKY', )),
    sirst_v2=DatasetSpec(
        'SIRST-V2', 'configs/_base_/datasets/sirst_v2.py',
        'https://github.com/YimianDai/open-sirst-v2',
        (ReleaseForm(
            'open-sirst-v2', "the authors' release: images/targets/, "
            'images/backgrounds/, annotations/masks/<stem>_pixels0.png, '
            'splits/{trainval,test}_<split>.txt',
            {name: _listed(['images/targets', 'images/backgrounds'],
                           'annotations/masks',
                           [f'splits/trainval_{name}.txt'],
                           [f'splits/test_{name}.txt'])
             for name in ('full', 'v1', 'v1fullv2target')},
            mask_suffixes=('_pixels0', ),
            counts=dict(full=(768, 256), v1=(341, 86),
                        v1fullv2target=(411, 103))), ),
        folder_names=('SIRST-V2', 'open-sirst-v2', 'open-sirst-v2-master')),
)


@dataclass
class ConversionReport:
    """What :func:`convert_release` wrote."""
    dataset: DatasetSpec
    form: ReleaseForm
    split: str
    source: str
    destination: str
    counts: Dict[str, int]
    linked: int = 0
    copied: int = 0
    extracted: int = 0
    replaced_earlier: bool = False

    def format(self) -> str:
        """Counts per split and how the files were written, in lines."""
        lines = [f'{self.dataset.name} from {self.source}: '
                 f'{self.form.description}; split {self.split}']
        published = self.form.counts.get(self.split)
        for index, (split, count) in enumerate(self.counts.items()):
            note = ''
            if published and published[index] != count:
                note = (f' (the published split has {published[index]}: '
                        'is the download complete?)')
            lines.append(f'  {split}: {count} image/mask pairs{note}')
        how = ', '.join(
            f'{count} {kind}' for kind, count in (
                ('hard links', self.linked), ('copies', self.copied),
                ('files extracted from archives', self.extracted))
            if count)
        lines.append(
            f'written to {osp.abspath(self.destination)} ({how}; the source '
            'is unchanged'
            + ('; the earlier conversion there was replaced)'
               if self.replaced_earlier else ')'))
        return '\n'.join(lines)


def _is_archive(path: str) -> bool:
    return path.lower().endswith(ARCHIVE_SUFFIXES)


def _archive_stem(path: str) -> str:
    name = osp.basename(path)
    for suffix in sorted(ARCHIVE_SUFFIXES, key=len, reverse=True):
        if name.lower().endswith(suffix):
            return name[:-len(suffix)]
    return name


def _is_junk(member: str) -> bool:
    """macOS/Windows metadata in archives (``__MACOSX/``, ``._*``,
    ``.DS_Store``, ...)."""
    parts = member.replace('\\', '/').split('/')
    return ('__MACOSX' in parts or parts[-1] in _JUNK_NAMES
            or parts[-1].startswith('._'))


def _searched(folder_name: str) -> bool:
    """Whether a release root may lie in this folder (not ``.git``,
    ``__MACOSX``, ...)."""
    return not (folder_name.startswith('.') or _is_junk(folder_name))


def _extract(archive: str, into: str) -> None:
    """Extract ``archive`` into ``into``: a single top folder is kept as it
    is, loose members go into ``into/<archive stem>/``. An archive with
    members outside its folder (absolute paths, ``..``) is refused; links,
    special files and macOS/Windows junk files are skipped."""
    try:
        if archive.lower().endswith('.zip'):
            with zipfile.ZipFile(archive) as handle:
                members = {info.filename: info for info in handle.infolist()
                           if not _is_junk(info.filename)
                           and not info.is_dir()}
                _check_extracted_size(
                    archive, sum(info.file_size for info in members.values()))
                target = _target_folder(archive, list(members), into)
                for name, info in members.items():
                    destination = osp.join(target, *name.split('/'))
                    os.makedirs(osp.dirname(destination), exist_ok=True)
                    with handle.open(info) as src, \
                            open(destination, 'wb') as dst:
                        shutil.copyfileobj(src, dst, 1 << 20)
        else:
            with tarfile.open(archive) as handle:
                members = [m for m in handle.getmembers()
                           if m.isfile() and not _is_junk(m.name)]
                _check_extracted_size(archive, sum(m.size for m in members))
                target = _target_folder(archive, [m.name for m in members],
                                        into)
                for member in members:
                    destination = osp.join(target, *member.name.split('/'))
                    os.makedirs(osp.dirname(destination), exist_ok=True)
                    with handle.extractfile(member) as src, \
                            open(destination, 'wb') as dst:
                        shutil.copyfileobj(src, dst, 1 << 20)
    except (zipfile.BadZipFile, tarfile.TarError, EOFError) as error:
        raise DatasetConversionError(
            f'{archive} cannot be read as an archive ({error}): download it '
            'again, or give the folder it was extracted to') from error


def _check_extracted_size(archive: str, size: int) -> None:
    """Refuse an archive whose files add up to more than
    :data:`MAX_EXTRACT_BYTES` (a decompression bomb) before extracting."""
    if size > MAX_EXTRACT_BYTES:
        raise DatasetConversionError(
            f'{archive} would extract {size} bytes, more than the '
            f'{MAX_EXTRACT_BYTES} bytes one archive may extract; refusing '
            'to extract it (extract it yourself and give the folder)')


def _target_folder(archive: str, names: List[str], into: str) -> str:
    """Where the members ``names`` of ``archive`` are extracted; refuses
    members outside the archive's folder and a path that is both a file
    and a folder."""
    for name in names:
        parts = name.replace('\\', '/').split('/')
        if name.startswith(('/', '\\')) or '..' in parts or ':' in parts[0]:
            raise DatasetConversionError(
                f'{archive} holds a file outside its own folder ({name}); '
                'refusing to extract it')
    folders = {name.rsplit('/', 1)[0] for name in names if '/' in name}
    folders |= {folder.rsplit('/', i)[0] for folder in folders
                for i in range(1, folder.count('/') + 1)}
    both = sorted(folders & set(names))
    if both:
        raise DatasetConversionError(
            f'{archive} holds {both[0]} both as a file and as a folder; '
            'refusing to extract it (download it again)')
    tops = {name.split('/')[0] for name in names}
    single_folder = len(tops) == 1 and all('/' in name for name in names)
    return into if single_folder else osp.join(into, _archive_stem(archive))


def _archives_below(folder: str) -> List[str]:
    """Archives in ``folder`` and its sub-folders down to the search depth,
    unless a folder of the archive's name lies beside it (extracted)."""
    found = []
    for current, dirs, files in os.walk(folder):
        depth = osp.relpath(current, folder).count(os.sep) + (
            current != folder)
        found += [osp.join(current, name) for name in sorted(files)
                  if _is_archive(name) and _archive_stem(name) not in dirs]
        dirs[:] = [d for d in dirs if _searched(d) and depth < _MAX_DEPTH]
    return found


def _depth(root: str) -> int:
    """How many folders below the source a release root lies."""
    return 0 if root == '.' else root.count(os.sep) + 1


class _ReleaseView:
    """A release read from several folders as one: the source folder and
    the folder where archives were extracted (a path relative to the
    release is looked up in each, in order)."""

    def __init__(self, bases: List[str]):
        self.bases = bases

    @classmethod
    def open(cls, src: str, staging: str) -> '_ReleaseView':
        """The source folder, or the archive extracted into ``staging``;
        archives inside are extracted into ``staging`` (beside the
        source's folder structure, never into the source)."""
        if osp.isdir(src):
            bases = [src]
            for archive in _archives_below(src):
                rel = osp.relpath(osp.dirname(archive), src)
                _extract(archive, osp.normpath(osp.join(staging, rel)))
            if os.listdir(staging):
                bases.append(staging)
            return cls(bases)
        if not _is_archive(src):
            raise DatasetConversionError(
                f'{src} is neither a folder nor an archive this tool opens '
                f'({", ".join(ARCHIVE_SUFFIXES)}): extract it (e.g. 7z x, '
                'unrar x) and give the folder')
        _extract(src, staging)
        for archive in _archives_below(staging):
            _extract(archive, osp.dirname(archive))
        return cls([staging])

    def isdir(self, rel: str) -> bool:
        return any(osp.isdir(osp.join(base, rel)) for base in self.bases)

    def files(self, rel: str) -> Dict[str, str]:
        """File name -> path of the files in folder ``rel`` (the first base
        holding a name wins)."""
        found = {}
        for base in self.bases:
            folder = osp.join(base, rel)
            if osp.isdir(folder):
                for name in sorted(os.listdir(folder)):
                    path = osp.join(folder, name)
                    if name not in found and osp.isfile(path):
                        found[name] = path
        return found

    def glob(self, rel_pattern: str) -> List[str]:
        folder, pattern = osp.split(rel_pattern)
        return [path for name, path in self.files(folder).items()
                if fnmatch.fnmatch(name, pattern)]

    def display(self, path: str) -> str:
        """``path`` as the user knows it: relative to the release they
        gave."""
        for base in self.bases:
            if path.startswith(base + os.sep):
                return osp.relpath(path, base)
        return path

    def roots(self) -> List[str]:
        """Candidate release roots, shallowest first."""
        roots = ['.']
        for depth in range(_MAX_DEPTH):
            level = [r for r in roots if _depth(r) == depth]
            for root in level:
                subs = set()
                for base in self.bases:
                    folder = osp.join(base, root)
                    if osp.isdir(folder):
                        subs.update(d for d in os.listdir(folder)
                                    if _searched(d)
                                    and osp.isdir(osp.join(folder, d)))
                roots += [osp.normpath(osp.join(root, d))
                          for d in sorted(subs)]
        return roots


def _split_files_view(view: _ReleaseView, root: str,
                      split_dir: Optional[str]) -> Tuple[_ReleaseView, str]:
    """Where split files are read: ``split_dir`` if given, else the
    release."""
    return (_ReleaseView([split_dir]), '.') if split_dir else (view, root)


def _form_matches(view: _ReleaseView, root: str, form: ReleaseForm,
                  split: str, split_dir: Optional[str]) -> bool:
    """Whether ``root`` holds the folders of ``form`` and the split files
    (which a release without them may lack: its error says where they
    are)."""
    files, base = _split_files_view(view, root, split_dir)
    for part in form.splits[split].values():
        folders = (*part.image_dirs, part.mask_dir)
        if not all(view.isdir(osp.join(root, d)) for d in folders):
            return False
        if part.split_files and (split_dir or not form.split_hint):
            if not any(files.glob(osp.join(base, f))
                       for f in part.split_files):
                return False
    return True


def _detect(spec: DatasetSpec, view: _ReleaseView, split: Optional[str],
            split_dir: Optional[str], src: str
            ) -> Tuple[ReleaseForm, str, str]:
    """The form (with its root and split) the source holds: at the
    shallowest root in a known form; several there (a bundle of datasets)
    are told apart by their folder names."""
    forms = [f for f in spec.forms if split is None or split in f.splits]
    if not forms:
        known = sorted({s for f in spec.forms for s in f.splits})
        raise DatasetConversionError(
            f'{spec.name} has no split {split!r}; its releases define: '
            f'{", ".join(known)}')
    found = []  # (root, form, split), shallowest roots first
    for root in view.roots():
        if found and _depth(root) > _depth(found[0][0]):
            break
        for form in forms:
            chosen = split or next(iter(form.splits))
            if _form_matches(view, root, form, chosen, split_dir):
                found.append((root, form, chosen))
                break
    if len(found) > 1:  # a bundle of several datasets: pick by folder name
        names = {name.lower() for name in (spec.name, *spec.folder_names)}
        named = [match for match in found
                 if osp.basename(match[0]).lower() in names]
        if len(named) != 1:
            raise DatasetConversionError(
                f'{src} holds several folders in a {spec.name} release form '
                f'({", ".join(match[0] for match in found)}): give the '
                f'folder of {spec.name} itself')
        found = named
    if found:
        root, form, chosen = found[0]
        return form, root, chosen
    expected = '\n'.join(f'  {f.description}' for f in forms)
    raise DatasetConversionError(
        f'{src} does not hold a {spec.name} release in a form this converter '
        f'knows (looked in it and {_MAX_DEPTH} folder levels below, and in '
        f'the archives there). Expected one of:\n{expected}\n'
        f'Download: {spec.homepage}')


def _read_split_file(path: str) -> List[str]:
    """Stems listed in a split file (CRLF, blank lines, a missing final
    newline and image extensions are all accepted)."""
    try:
        with open(path, encoding='utf-8-sig') as handle:
            lines = [line.strip() for line in handle]
    except UnicodeDecodeError:
        raise DatasetConversionError(
            f'split file {osp.normpath(path)} is not UTF-8 text; save it as '
            'UTF-8') from None
    stems = []
    for line in lines:
        if line:
            stem, ext = osp.splitext(line)
            stems.append(stem if ext.lower() in IMG_EXTENSIONS else line)
    return stems


def _find_split_file(view: _ReleaseView, root: str, part: Part,
                     form: ReleaseForm, split_dir: Optional[str],
                     src: str) -> str:
    """The split file of ``part``: in ``split_dir`` if given, else in the
    release."""
    files, base = _split_files_view(view, root, split_dir)
    for pattern in part.split_files:
        found = files.glob(osp.join(base, pattern))
        if len(found) > 1:
            raise DatasetConversionError(
                f'{len(found)} split files match {pattern} in '
                f'{split_dir or src}: {", ".join(map(osp.basename, found))}; '
                'keep one (or give --split-dir)')
        if found:
            return found[0]
    where = split_dir or (osp.normpath(osp.join(src, root)) if osp.isdir(src)
                          else f'{root} in {src}')
    hint = f' ({form.split_hint})' if form.split_hint else ''
    raise DatasetConversionError(
        f'no split file {" or ".join(part.split_files)} in {where}{hint}')


def _index(view: _ReleaseView, folders: Sequence[str], suffixes: Sequence[str],
           problems: List[str]) -> Dict[str, str]:
    """stem -> path of the images in ``folders`` (a stem ending in one of
    ``suffixes`` also stands for the stem without it)."""
    index = {}
    for folder in folders:
        for name, path in view.files(folder).items():
            stem, ext = osp.splitext(name)
            if name.startswith('.') or ext.lower() not in IMG_EXTENSIONS:
                continue
            for suffix in suffixes:
                if stem.endswith(suffix) and len(stem) > len(suffix):
                    stem = stem[:-len(suffix)]
                    break
            if stem in index:
                problems.append(
                    f'{view.display(index[stem])} and {view.display(path)} '
                    f'both stand for {stem!r}; keep one')
                continue
            index[stem] = path
    return index


def _image_size(path: str) -> Tuple[Optional[Tuple[int, int]], str]:
    """(width, height) of an image file from its header, or None and why
    it cannot be read."""
    try:
        with Image.open(path) as image:
            return image.size, ''
    except Image.DecompressionBombError as error:
        return None, str(error)
    except (OSError, SyntaxError, ValueError):
        return None, 'unreadable (corrupt, truncated or not an image)'


def _collect(spec: DatasetSpec, form: ReleaseForm, split: str, root: str,
             view: _ReleaseView, split_dir: Optional[str], src: str,
             replace_masks: Dict[str, str]
             ) -> Dict[str, Dict[str, Tuple[str, str]]]:
    """split -> stem -> (image, mask), after checking every pair; raises
    :class:`DatasetConversionError` listing all problems."""
    problems: List[str] = []
    pairs: Dict[str, Dict[str, Tuple[str, str]]] = {}
    for name, part in form.splits[split].items():
        image_dirs = [osp.normpath(osp.join(root, d))
                      for d in part.image_dirs]
        mask_dir = osp.normpath(osp.join(root, part.mask_dir))
        images = _index(view, image_dirs, (), problems)
        masks = _index(view, [mask_dir], form.mask_suffixes, problems)
        masks.update({stem: path for stem, path in replace_masks.items()
                      if stem in images})
        if part.split_files:
            split_file = _find_split_file(view, root, part, form, split_dir,
                                          src)
            stems = _read_split_file(split_file)
            listed = view.display(split_file)
        else:
            stems, listed = sorted(images), None
            problems += [
                f'{view.display(masks[stem])}: mask without image in '
                f'{" or ".join(image_dirs)}'
                for stem in sorted(set(masks) - set(images))]
        pairs[name] = {}
        for stem in stems:
            if stem not in images:
                problems.append(f'{listed} lists {stem!r} but '
                                f'{" or ".join(image_dirs)} has no such image')
            elif stem not in masks:
                suffix = form.mask_suffixes[0] if form.mask_suffixes else ''
                problems.append(f'{view.display(images[stem])}: no mask '
                                f'{stem}{suffix}.* in {mask_dir}')
            else:
                pairs[name][stem] = (images[stem], masks[stem])
    owners: Dict[str, List[str]] = {}
    for name, stems in pairs.items():
        for stem in stems:
            owners.setdefault(stem, []).append(name)
    problems += [f'{stem!r} is in both {" and ".join(names)}'
                 for stem, names in sorted(owners.items()) if len(names) > 1]
    problems += [f'--replace-mask names {stem!r}, which split {split} does '
                 'not hold'
                 for stem in sorted(set(replace_masks) - set(owners))]
    for stems in pairs.values():
        for stem, (image, mask) in stems.items():
            (image_size, image_problem), (mask_size, mask_problem) = (
                _image_size(image), _image_size(mask))
            for path, problem in ((image, image_problem),
                                  (mask, mask_problem)):
                if problem:
                    problems.append(f'{view.display(path)}: {problem}')
            if image_size and mask_size and image_size != mask_size:
                fix = spec.mask_fixes.get(stem)
                problems.append(
                    f'{view.display(mask)}: mask is '
                    f'{mask_size[0]}x{mask_size[1]} but its image '
                    f'{view.display(image)} is {image_size[0]}x'
                    f'{image_size[1]} (WxH)' + (f': {fix}' if fix else ''))
    if problems:
        shown = problems[:30]
        more = (f'\n  ... and {len(problems) - 30} more'
                if len(problems) > 30 else '')
        raise DatasetConversionError(
            f'{src} ({form.description}, split {split}): {len(problems)} '
            f'problem{"s" if len(problems) > 1 else ""}, nothing was '
            'written:\n' +
            '\n'.join(f'  {p}' for p in shown) + more)
    return pairs


def _files_below(folder: str) -> List[str]:
    return sorted(
        osp.relpath(osp.join(current, name), folder)
        for current, _, names in os.walk(folder) for name in names)


def _entries_below(folder: str) -> List[str]:
    """Every file, folder and link below ``folder`` (links not followed),
    relative to it."""
    return sorted(
        osp.relpath(osp.join(current, name), folder)
        for current, dirs, names in os.walk(folder) for name in dirs + names)


def _read_marker(dst: str, spec: DatasetSpec) -> Optional[dict]:
    """The record of an earlier conversion of ``spec`` in ``dst``, or None
    (no record, another dataset's, unreadable)."""
    try:
        with open(osp.join(dst, MARKER)) as handle:
            record = json.load(handle)
        if record.get('dataset') == spec.name and isinstance(
                record['files'], list):
            return record
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        pass
    return None


def _check_destination(dst: str, spec: DatasetSpec) -> bool:
    """Whether ``dst`` holds an earlier conversion of this dataset that may
    be replaced: exactly what that conversion wrote, unchanged (compared by
    SHA-256). Raises where writing there could lose anything else (a file,
    folder or link added, a file changed since)."""
    if not osp.lexists(dst):
        return False
    if osp.islink(dst) or not osp.isdir(dst):
        raise DatasetConversionError(
            f'{dst} exists and is not a folder (a link or a file): choose '
            'another destination; nothing was written')
    entries = _entries_below(dst)
    if not entries:
        return False
    record = _read_marker(dst, spec)
    if record is None:
        raise DatasetConversionError(
            f'{dst} is not empty and is not an earlier {spec.name} conversion '
            'by this tool: choose a new (or empty) destination; nothing was '
            'written')
    written = {MARKER}
    for path in record['files']:  # each file and the folders above it
        while path and path not in written:
            written.add(path)
            path = osp.dirname(path)
    added = [entry for entry in entries if entry not in written
             and osp.dirname(entry) in written | {''}]
    hashes = record.get('sha256') or {}
    changed = [path for path in record['files']
               if osp.lexists(osp.join(dst, path)) and (
                   osp.islink(osp.join(dst, path))
                   or not osp.isfile(osp.join(dst, path))
                   or hashes.get(path) != file_sha256(osp.join(dst, path)))]
    found = [(what, paths) for what, paths in (
        ('files, folders or links this tool did not write', added),
        ('files changed since it wrote them', changed)) if paths]
    if found:
        listed = '; '.join(
            f'{what} ({", ".join(paths[:5])}'
            f'{", ..." if len(paths) > 5 else ""})' for what, paths in found)
        raise DatasetConversionError(
            f'{dst} holds an earlier {spec.name} conversion plus {listed}: '
            'move them away or choose another destination; nothing was '
            'written')
    return True


def _place(src: str, dst: str, copy: bool) -> bool:
    """Hard link (or copy) ``src`` to ``dst``; whether it was linked. A
    file system that cannot link across (another device) gets a copy."""
    if not copy:
        try:
            os.link(src, dst)
            return True
        except OSError:
            pass
    shutil.copy2(src, dst)
    return False


def _new_folder(parent: str, prefix: str) -> str:
    """A fresh hidden folder in ``parent`` with the usual permissions
    (mkdtemp makes it private)."""
    folder = tempfile.mkdtemp(prefix=prefix, dir=parent)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(folder, 0o777 & ~umask)
    return folder


def convert_release(dataset: str, src: str, dst: str,
                    split: Optional[str] = None, copy: bool = False,
                    split_dir: Optional[str] = None,
                    replace_masks: Optional[Dict[str, str]] = None
                    ) -> ConversionReport:
    """Convert a downloaded release to ``dst/{trainval,test}/{images,masks}``.

    Args:
        dataset: key of :data:`DATASET_RELEASES` (``'sirst'``, ...).
        src: the release: a folder or an archive, as downloaded.
        dst: the folder to create (absent, empty, or an earlier conversion
            of the same dataset by this function, which is replaced).
        split: the split to follow (default: the form's first).
        copy: copy the files instead of hard-linking them.
        split_dir: folder holding the split files, where the release has
            none (SAM-SPL's ``dataset/set_configs/<NAME>``).
        replace_masks: stem -> mask file used instead of the release's
            (SIRST's Misc_111, see :data:`DATASET_RELEASES`).

    Images keep their file names, masks are named after their image's stem
    (their own extension kept). Everything is checked before anything is
    written: a missing image or mask, masks without image, a stem in both
    splits, an unreadable file or an image/mask size mismatch raises
    :class:`DatasetConversionError` listing all of them. The output is
    assembled next to ``dst`` (archives are extracted there too, at most
    :data:`MAX_EXTRACT_BYTES` from one archive) and moved into place in one
    step. One conversion into ``dst`` runs at a time (a lock on
    ``.<name>.lock`` beside it); it first removes the work folders a killed
    conversion into ``dst`` left there.
    """
    if dataset not in DATASET_RELEASES:
        raise DatasetConversionError(
            f'unknown dataset {dataset!r}; known: '
            f'{", ".join(DATASET_RELEASES)}')
    spec = DATASET_RELEASES[dataset]
    if not osp.exists(src):
        raise FileNotFoundError(
            f'{src} does not exist: give the downloaded archive or the '
            f'folder it was extracted to ({spec.homepage})')
    if split_dir and not osp.isdir(split_dir):
        raise FileNotFoundError(f'--split-dir {split_dir} is not a folder')
    replace_masks = dict(replace_masks or {})
    for stem, path in replace_masks.items():
        if not osp.isfile(path):
            raise FileNotFoundError(
                f'the replacement mask for {stem}, {path}, does not exist')
    src_real, dst_real = osp.realpath(src), osp.realpath(dst)
    if dst_real == src_real or dst_real.startswith(src_real + os.sep):
        raise DatasetConversionError(
            f'{dst} is inside the source {src}: the source is never written '
            'to; choose a destination outside it')
    dst = osp.normpath(dst)
    parent = osp.dirname(osp.abspath(dst))
    os.makedirs(parent, exist_ok=True)
    name = osp.basename(osp.abspath(dst))
    try:
        with exclusive_lock(osp.join(parent, f'.{name}.lock')):
            # no other conversion into dst runs: these are a killed one's
            for prefix in _WORK_FOLDERS:
                for folder in glob.glob(osp.join(parent,
                                                 f'.{name}.{prefix}-*')):
                    shutil.rmtree(folder)
            return _convert(spec, src, dst, parent, name, split, copy,
                            split_dir, replace_masks)
    except LockHeldError as error:
        raise DatasetConversionError(
            f'another conversion into {dst} is running ({error.holder}): '
            'wait for it to end; nothing was written') from None


def _convert(spec: DatasetSpec, src: str, dst: str, parent: str, name: str,
             split: Optional[str], copy: bool, split_dir: Optional[str],
             replace_masks: Dict[str, str]) -> ConversionReport:
    """:func:`convert_release` once it holds the destination's lock."""
    replace_earlier = _check_destination(dst, spec)
    staging = _new_folder(parent, f'.{name}.extract-')
    output = None
    try:
        view = _ReleaseView.open(src, staging)
        form, root, split = _detect(spec, view, split, split_dir, src)
        pairs = _collect(spec, form, split, root, view, split_dir, src,
                         replace_masks)
        output = _new_folder(parent, f'.{name}.partial-')
        report = ConversionReport(spec, form, split, src, dst,
                                  {k: len(v) for k, v in pairs.items()},
                                  replaced_earlier=replace_earlier)
        for split_name, stems in pairs.items():
            for kind in ('images', 'masks'):
                os.makedirs(osp.join(output, split_name, kind))
            for stem, (image, mask) in stems.items():
                for kind, path in (('images', image), ('masks', mask)):
                    ext = osp.splitext(path)[1]
                    target = osp.join(output, split_name, kind, stem + ext)
                    linked = _place(path, target, copy)
                    if path.startswith(staging + os.sep):
                        report.extracted += 1
                    elif linked:
                        report.linked += 1
                    else:
                        report.copied += 1
        files = _files_below(output)
        with open(osp.join(output, MARKER), 'w') as handle:
            json.dump(dict(dataset=spec.name, form=form.name, split=split,
                           source=osp.abspath(src), files=files,
                           sha256={path: file_sha256(osp.join(output, path))
                                   for path in files}), handle, indent=1)
        _move_into_place(output, dst, replace_earlier, parent, name)
        output = None
        return report
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        if output is not None:
            shutil.rmtree(output, ignore_errors=True)


def _move_into_place(output: str, dst: str, replace_earlier: bool,
                     parent: str, name: str) -> None:
    if replace_earlier:
        trash = _new_folder(parent, f'.{name}.old-')
        os.rename(dst, osp.join(trash, name))
        os.rename(output, dst)
        shutil.rmtree(trash)
    else:
        if osp.isdir(dst):
            os.rmdir(dst)  # empty: checked before
        os.rename(output, dst)
