"""Every release form of serankdet.datasets.releases, built from small
synthetic frames in a temporary folder, converts to the common layout with
the right counts, stems and bytes; every problem of a release is reported
before anything is written, and the source is never changed."""
import io
import os
import os.path as osp
import tarfile
import zipfile

import numpy as np
import pytest
from PIL import Image

from serankdet.datasets.check import check_dataset, layout_splits
from serankdet.datasets.releases import (DATASET_RELEASES, MARKER,
                                         DatasetConversionError,
                                         convert_release)


def png_bytes(seed, size=(20, 16), mask=False, target=True):
    """A small 8-bit gray PNG: noise (an image) or a 0/255 mask with one 2x2
    target (or none)."""
    rng = np.random.default_rng(seed)
    width, height = size
    if mask:
        pixels = np.zeros((height, width), np.uint8)
        if target:
            y, x = rng.integers(0, height - 2), rng.integers(0, width - 2)
            pixels[y:y + 2, x:x + 2] = 255
    else:
        pixels = rng.integers(0, 256, (height, width), np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format='PNG')
    return buffer.getvalue()


def write(path, data):
    os.makedirs(osp.dirname(path), exist_ok=True)
    with open(path, 'wb' if isinstance(data, bytes) else 'w',
              newline='' if isinstance(data, str) else None) as handle:
        handle.write(data)


class Release:
    """A synthetic release: writes frames where a form keeps them and
    remembers the bytes each output file must have."""

    def __init__(self, root):
        self.root = str(root)
        self.expected = {}  # 'trainval/images/x.png' -> bytes
        self.seed = 0

    def pair(self, split, stem, image_path, mask_path, size=(20, 16),
             target=True):
        """One frame and its mask at paths relative to the release; the
        output holds them in ``split`` (None: not at all)."""
        self.seed += 1
        image = png_bytes(self.seed, size)
        mask = png_bytes(self.seed, size, mask=True, target=target)
        write(osp.join(self.root, image_path), image)
        write(osp.join(self.root, mask_path), mask)
        if split:
            ext = osp.splitext(image_path)[1]
            self.expected[f'{split}/images/{stem}{ext}'] = image
            self.expected[f'{split}/masks/{stem}.png'] = mask

    def text(self, path, stems, newline='\n', final_newline=False):
        write(osp.join(self.root, path),
              newline.join(stems) + (newline if final_newline else ''))


def snapshot(folder):
    """relative path -> bytes of every file below ``folder``."""
    files = {}
    for current, _, names in os.walk(folder):
        for name in names:
            path = osp.join(current, name)
            with open(path, 'rb') as handle:
                files[osp.relpath(path, folder)] = handle.read()
    return files


def assert_converted(dst, release, counts):
    """``dst`` holds exactly the expected files, byte for byte, and passes
    the dataset check with ``counts`` pairs per split."""
    files = snapshot(dst)
    assert MARKER in files
    del files[MARKER]
    assert files == release.expected
    report = check_dataset(layout_splits(str(dst)))
    assert report.errors == []
    assert {k: v.pairs for k, v in report.splits.items()} == counts


def sirst_release(root, stems=('Misc_1', 'Misc_2', 'Misc_3', 'Misc_4',
                               'Misc_5')):
    """SIRST as the authors publish it: masks/<stem>_pixels0.png beside
    bbox XML files, idx_427/ and idx_320/ split files without a final
    newline."""
    release = Release(root)
    trainval, test = list(stems[:-2]), list(stems[-2:])
    for stem in stems:
        release.pair('trainval' if stem in trainval else 'test', stem,
                     f'images/{stem}.png', f'masks/{stem}_pixels0.png')
        write(osp.join(release.root, 'masks', f'{stem}.xml'), '<xml/>')
    release.text('idx_427/trainval.txt', trainval)
    release.text('idx_427/test.txt', test)
    release.text('idx_320/trainval.txt', trainval[:1])
    release.text('idx_320/test.txt', test[:1])
    return release


def test_sirst_folder(tmp_path):
    release = sirst_release(tmp_path / 'sirst')
    before = snapshot(release.root)
    report = convert_release('sirst', release.root, str(tmp_path / 'out'))
    assert report.counts == dict(trainval=3, test=2)
    assert (report.split, report.linked, report.copied) == ('idx_427', 10, 0)
    assert_converted(tmp_path / 'out', release, dict(trainval=3, test=2))
    assert snapshot(release.root) == before
    assert osp.samefile(tmp_path / 'out/test/masks/Misc_5.png',
                        tmp_path / 'sirst/masks/Misc_5_pixels0.png')
    assert sorted(os.listdir(tmp_path)) == ['out', 'sirst']  # no leftovers
    assert ('the published split has 341: is the download complete?'
            in report.format())


def test_sirst_other_split_and_copies(tmp_path):
    release = sirst_release(tmp_path / 'sirst')
    report = convert_release('sirst', release.root, str(tmp_path / 'out'),
                             split='idx_320', copy=True)
    assert report.counts == dict(trainval=1, test=1)
    assert (report.linked, report.copied) == (0, 4)
    out = tmp_path / 'out'
    assert sorted(os.listdir(out / 'trainval/images')) == ['Misc_1.png']
    assert sorted(os.listdir(out / 'test/masks')) == ['Misc_4.png']
    assert not osp.samefile(out / 'test/masks/Misc_4.png',
                            tmp_path / 'sirst/masks/Misc_4_pixels0.png')
    with pytest.raises(DatasetConversionError,
                       match="SIRST has no split 'idx_999'; its releases "
                       'define: dnanet_50_50, idx_320, idx_427, img_idx'):
        convert_release('sirst', release.root, str(tmp_path / 'o2'),
                        split='idx_999')


def zip_folder(folder, archive, junk=True):
    """Zip ``folder`` (entries under its name) as GitHub and macOS do,
    AppleDouble files included."""
    base = osp.dirname(folder)
    with zipfile.ZipFile(archive, 'w', zipfile.ZIP_STORED) as handle:
        for current, _, names in os.walk(folder):
            for name in sorted(names):
                path = osp.join(current, name)
                rel = osp.relpath(path, base)
                handle.write(path, rel)
                if junk:
                    handle.writestr(f'__MACOSX/{osp.dirname(rel)}/._{name}',
                                    b'\x00\x05\x16\x07')
        if junk:
            handle.writestr(f'{osp.basename(folder)}/.DS_Store', b'junk')


def test_sirst_zips_inside_repository_archive(tmp_path):
    """The newer release: the repository archive sirst-master.zip holds
    images.zip and masks.zip (with __MACOSX entries) and the split
    folders."""
    release = sirst_release(tmp_path / 'build' / 'sirst-master')
    root = release.root
    for kind in ('images', 'masks'):
        zip_folder(osp.join(root, kind), osp.join(root, f'{kind}.zip'))
        for name in os.listdir(osp.join(root, kind)):
            os.remove(osp.join(root, kind, name))
        os.rmdir(osp.join(root, kind))
    # the folder as downloaded: archives inside are read, never extracted
    # into it
    before = snapshot(root)
    report = convert_release('sirst', root, str(tmp_path / 'from_folder'))
    assert report.counts == dict(trainval=3, test=2)
    assert_converted(tmp_path / 'from_folder', release,
                     dict(trainval=3, test=2))
    assert snapshot(root) == before
    # the repository archive itself
    archive = str(tmp_path / 'sirst-master.zip')
    zip_folder(root, archive, junk=False)
    report = convert_release('sirst', archive, str(tmp_path / 'from_zip'))
    assert report.counts == dict(trainval=3, test=2)
    assert_converted(tmp_path / 'from_zip', release, dict(trainval=3, test=2))
    assert sorted(os.listdir(tmp_path)) == [
        'build', 'from_folder', 'from_zip', 'sirst-master.zip']


def test_sirst_misc_111_mask_named_with_its_fix(tmp_path):
    release = sirst_release(tmp_path / 'sirst', stems=('Misc_1', 'Misc_2',
                                                      'Misc_111'))
    write(osp.join(release.root, 'masks', 'Misc_111_pixels0.png'),
          png_bytes(0, (37, 25), mask=True))
    with pytest.raises(DatasetConversionError) as info:
        convert_release('sirst', release.root, str(tmp_path / 'out'))
    message = str(info.value)
    assert ('1 problem, nothing was written:\n  masks/Misc_111_pixels0.png: '
            'mask is 37x25 but its image images/Misc_111.png is 20x16 (WxH): '
            'a known mistake of the SIRST v1 release' in message)
    assert ('https://raw.githubusercontent.com/YimianDai/open-sirst-v2/'
            'master/annotations/masks/Misc_111_pixels0.png and add '
            '--replace-mask Misc_111=Misc_111_pixels0.png' in message)
    assert not osp.exists(tmp_path / 'out')
    assert sorted(os.listdir(tmp_path)) == ['sirst']
    fixed = str(tmp_path / 'Misc_111_pixels0.png')
    write(fixed, release.expected['test/masks/Misc_111.png'])
    convert_release('sirst', release.root, str(tmp_path / 'out'),
                    replace_masks=dict(Misc_111=fixed))
    assert_converted(tmp_path / 'out', release, dict(trainval=1, test=2))
    with pytest.raises(DatasetConversionError,
                       match="1 problem, nothing was written:\n  "
                       "--replace-mask names 'Misc_9', which split idx_427 "
                       'does not hold$'):
        convert_release('sirst', release.root, str(tmp_path / 'o2'),
                        replace_masks=dict(Misc_111=fixed, Misc_9=fixed))


def test_nudt_sirst_crlf_split_files(tmp_path):
    release = Release(tmp_path / 'NUDT-SIRST')
    for index in range(1, 6):
        stem = f'{index:06d}'
        release.pair('trainval' if index <= 3 else 'test', stem,
                     f'images/{stem}.png', f'masks/{stem}.png')
    release.text('50_50/train.txt', ['000001', '000002', '000003'],
                 newline='\r\n', final_newline=True)
    release.text('50_50/test.txt', ['000004', '000005'], newline='\r\n',
                 final_newline=True)
    report = convert_release('nudt_sirst', release.root,
                             str(tmp_path / 'out'))
    assert (report.form.name, report.split) == ('DNANet', 'dnanet_50_50')
    assert_converted(tmp_path / 'out', release, dict(trainval=3, test=2))


def test_irstd1k_tar_gz(tmp_path):
    release = Release(tmp_path / 'build' / 'IRSTD-1k')
    for index, split in enumerate(['trainval'] * 3 + ['test'] * 2):
        stem = f'XDU{index}'
        release.pair(split, stem, f'IRSTD1k_Img/{stem}.png',
                     f'IRSTD1k_Label/{stem}.png', size=(24, 24))
    release.text('trainval.txt', ['XDU0', 'XDU1', 'XDU2'], final_newline=True)
    release.text('test.txt', ['XDU3', 'XDU4.png'], final_newline=True)
    archive = str(tmp_path / 'IRSTD-1k.tar.gz')
    with tarfile.open(archive, 'w:gz') as handle:
        handle.add(release.root, arcname='IRSTD-1k')
    report = convert_release('irstd1k', archive, str(tmp_path / 'out'))
    assert report.form.name == 'ISNet'
    assert_converted(tmp_path / 'out', release, dict(trainval=3, test=2))


def test_sirst_aug_mask_suffix_and_mask_without_image(tmp_path):
    release = Release(tmp_path / 'sirst_aug')
    for index, split in enumerate(['trainval'] * 3 + ['test'] * 2):
        stem = f'{index:06d}'
        release.pair(split, stem, f'{split}/images/{stem}.png',
                     f'{split}/masks/{stem}_mask.png')
    report = convert_release('sirst_aug', release.root, str(tmp_path / 'out'))
    assert report.counts == dict(trainval=3, test=2)
    assert_converted(tmp_path / 'out', release, dict(trainval=3, test=2))
    write(osp.join(release.root, 'test/masks/000009_mask.png'),
          png_bytes(0, mask=True))
    os.remove(osp.join(release.root, 'trainval/masks/000001_mask.png'))
    with pytest.raises(DatasetConversionError) as info:
        convert_release('sirst_aug', release.root, str(tmp_path / 'o2'))
    assert str(info.value).endswith(
        '2 problems, nothing was written:\n'
        '  trainval/images/000001.png: no mask 000001_mask.* in '
        'trainval/masks\n'
        '  test/masks/000009_mask.png: mask without image in test/images')


def basicirstd_release(root, name):
    release = Release(root)
    stems = [f'{i:02d}-01-01' for i in range(5)]
    for index, stem in enumerate(stems):
        release.pair('trainval' if index < 3 else 'test', stem,
                     f'images/{stem}.png', f'masks/{stem}.png')
    release.text(f'img_idx/train_{name}.txt', stems[:3])
    release.text(f'img_idx/test_{name}.txt', stems[3:])
    return release


def test_nudt_sea_basicirstd_layout(tmp_path):
    release = basicirstd_release(tmp_path / 'NUDT-SIRST-Sea',
                                 'NUDT-SIRST-Sea')
    report = convert_release('nudt_sea', release.root, str(tmp_path / 'out'))
    assert (report.form.name, report.split) == ('BasicIRSTD', 'img_idx')
    assert_converted(tmp_path / 'out', release, dict(trainval=3, test=2))


def test_bundle_of_datasets_picks_by_folder_name(tmp_path):
    """BasicIRSTD's download holds several datasets in one layout."""
    bundle = tmp_path / 'BasicIRSTD' / 'datasets'
    basicirstd_release(bundle / 'IRSTD-1K', 'IRSTD-1K')
    release = basicirstd_release(bundle / 'NUDT-SIRST', 'NUDT-SIRST')
    report = convert_release('nudt_sirst', str(tmp_path / 'BasicIRSTD'),
                             str(tmp_path / 'out'))
    assert report.form.name == 'BasicIRSTD'
    assert_converted(tmp_path / 'out', release, dict(trainval=3, test=2))
    os.rename(bundle / 'NUDT-SIRST', bundle / 'mine')
    with pytest.raises(DatasetConversionError) as info:
        convert_release('nudt_sirst', str(tmp_path / 'BasicIRSTD'),
                        str(tmp_path / 'o2'))
    assert str(info.value) == (
        f'{tmp_path}/BasicIRSTD holds several folders in a NUDT-SIRST release '
        'form (datasets/IRSTD-1K, datasets/mine): give the folder of '
        'NUDT-SIRST itself')


def test_split_file_entries_without_image_or_mask(tmp_path):
    release = basicirstd_release(tmp_path / 'IRSTD-1K', 'IRSTD-1K')
    release.text('img_idx/test_IRSTD-1K.txt', ['03-01-01', '04-01-01', 'XDU7'])
    os.remove(osp.join(release.root, 'masks', '04-01-01.png'))
    release.text('img_idx/train_IRSTD-1K.txt',
                 ['00-01-01', '01-01-01', '02-01-01', '03-01-01'])
    with pytest.raises(DatasetConversionError) as info:
        convert_release('irstd1k', release.root, str(tmp_path / 'out'))
    assert str(info.value).endswith(
        '3 problems, nothing was written:\n'
        '  images/04-01-01.png: no mask 04-01-01.* in masks\n'
        "  img_idx/test_IRSTD-1K.txt lists 'XDU7' but images has no such "
        'image\n'
        "  '03-01-01' is in both trainval and test")
    assert sorted(os.listdir(tmp_path)) == ['IRSTD-1K']


def test_irstdid_sky_needs_samspl_split(tmp_path):
    """IRSTDID-800 has no split files: SAM-SPL's come with --split-dir."""
    release = Release(tmp_path / 'IRSTDID-800' / 'IRSTDID-SKY')
    for index in range(1, 5):
        stem = f'{index:04d}'
        release.pair('trainval' if index != 2 else 'test', stem,
                     f'Images/{stem}.png', f'Masks/{stem}.png')
    gnd = tmp_path / 'IRSTDID-800' / 'IRSTDID-GND'
    write(str(gnd / '00001.png'), png_bytes(0))
    src = str(tmp_path / 'IRSTDID-800')
    with pytest.raises(DatasetConversionError) as info:
        convert_release('irstdid_sky', src, str(tmp_path / 'out'))
    assert str(info.value) == (
        f'no split file train.txt or trainval.txt in {src}/IRSTDID-SKY (the '
        "release has no split; SAM-SPL's: git clone "
        'https://github.com/fuyimin96/SAM-SPL and add --split-dir '
        'SAM-SPL/dataset/set_configs/IRSTDID-SKY)')
    splits = tmp_path / 'set_configs'
    write(str(splits / 'train.txt'), '0001\n0003\n0004\n')
    write(str(splits / 'test.txt'), '0002\n')
    report = convert_release('irstdid_sky', src, str(tmp_path / 'out'),
                             split_dir=str(splits))
    assert report.form.name == 'IRSTDID-800'
    assert_converted(tmp_path / 'out', release, dict(trainval=3, test=1))


def test_sirst_v2_targets_and_backgrounds(tmp_path):
    release = Release(tmp_path / 'open-sirst-v2')
    frames = [('Misc_1', 'targets', 'trainval'), ('iraytek-1', 'backgrounds',
                                                   'trainval'),
              ('SN_SN_1', 'targets', 'test'), ('GAODE_1', 'backgrounds',
                                               'test')]
    for index, (stem, folder, split) in enumerate(frames):
        release.pair(split, stem, f'images/{folder}/{stem}.png',
                     f'annotations/masks/{stem}_pixels0.png',
                     size=(64 + 16 * index, 48), target=folder == 'targets')
        release.pair(None, stem, f'mixed/{stem}.png',
                     f'annotations/bboxes/{stem}.png')
    release.text('splits/trainval_full.txt', ['Misc_1', 'iraytek-1'])
    release.text('splits/test_full.txt', ['SN_SN_1', 'GAODE_1'])
    release.text('splits/trainval_v1.txt', ['Misc_1'])
    release.text('splits/test_v1.txt', ['SN_SN_1'])
    report = convert_release('sirst_v2', release.root, str(tmp_path / 'out'))
    assert report.split == 'full'
    assert_converted(tmp_path / 'out', release, dict(trainval=2, test=2))
    report = check_dataset(layout_splits(str(tmp_path / 'out')))
    assert report.splits['test'].empty_masks == 1


def test_destination_never_overwrites_user_data(tmp_path):
    release = sirst_release(tmp_path / 'sirst')
    out = tmp_path / 'out'
    write(str(out / 'notes.txt'), 'mine')
    with pytest.raises(DatasetConversionError,
                       match='is not empty and is not an earlier SIRST '
                       'conversion by this tool'):
        convert_release('sirst', release.root, str(out))
    assert snapshot(out) == {'notes.txt': b'mine'}
    os.remove(out / 'notes.txt')  # an empty folder is used
    convert_release('sirst', release.root, str(out))
    report = convert_release('sirst', release.root, str(out),
                             split='idx_320')  # replaces the earlier one
    assert report.replaced_earlier
    assert sorted(os.listdir(out / 'trainval/images')) == ['Misc_1.png']
    write(str(out / 'trainval' / 'work' / 'log.txt'), 'mine')
    with pytest.raises(DatasetConversionError,
                       match=r'plus files, folders or links this tool did '
                       r'not write \(trainval/work\): move them away'):
        convert_release('sirst', release.root, str(out))
    assert snapshot(out)['trainval/work/log.txt'] == b'mine'
    with pytest.raises(DatasetConversionError,
                       match='is not empty and is not an earlier NUDT-SIRST'):
        convert_release('nudt_sirst', release.root, str(out))
    with pytest.raises(DatasetConversionError,
                       match='is inside the source'):
        convert_release('sirst', release.root, str(tmp_path / 'sirst/out'))


def test_unknown_layout_lists_the_forms(tmp_path):
    write(str(tmp_path / 'x' / 'pictures' / 'a.png'), png_bytes(0))
    with pytest.raises(DatasetConversionError) as info:
        convert_release('nudt_sirst', str(tmp_path / 'x'),
                        str(tmp_path / 'out'))
    assert str(info.value) == (
        f'{tmp_path}/x does not hold a NUDT-SIRST release in a form this '
        'converter knows (looked in it and 2 folder levels below, and in the '
        'archives there). Expected one of:\n'
        "  the authors' (DNANet's) release: images/, masks/, "
        '50_50/{train,test}.txt\n'
        "  BasicIRSTD's layout: images/, masks/, "
        'img_idx/{train,test}_<NAME>.txt\n'
        "  SAM-SPL's layout: images/, masks/ (split files in SAM-SPL's "
        'repository)\n'
        'Download: https://github.com/YeRen123455/Infrared-Small-Target-'
        'Detection')
    (tmp_path / 'NUDT-SIRST.rar').write_bytes(b'Rar!')
    with pytest.raises(DatasetConversionError,
                       match=r'NUDT-SIRST.rar is neither a folder nor an '
                       r'archive this tool opens \(.zip, .tar, .tar.gz, .tgz, '
                       r'.tar.bz2, .tar.xz\): extract it'):
        convert_release('nudt_sirst', str(tmp_path / 'NUDT-SIRST.rar'),
                        str(tmp_path / 'out'))
    with pytest.raises(FileNotFoundError, match='give the downloaded archive'):
        convert_release('sirst', str(tmp_path / 'nothing.zip'),
                        str(tmp_path / 'out'))


def test_archive_escaping_its_folder_is_refused(tmp_path):
    archive = str(tmp_path / 'evil.zip')
    with zipfile.ZipFile(archive, 'w') as handle:
        handle.writestr('images/a.png', png_bytes(0))
        handle.writestr('../outside.png', png_bytes(1))
    with pytest.raises(DatasetConversionError,
                       match=r'holds a file outside its own folder '
                       r'\(\.\./outside.png\); refusing to extract it'):
        convert_release('sirst', archive, str(tmp_path / 'out'))
    assert sorted(os.listdir(tmp_path)) == ['evil.zip']
    (tmp_path / 'broken.zip').write_bytes(b'PK\x03\x04 not a zip')
    with pytest.raises(DatasetConversionError,
                       match='cannot be read as an archive'):
        convert_release('sirst', str(tmp_path / 'broken.zip'),
                        str(tmp_path / 'out'))


FORMS = [(key, index) for key, spec in DATASET_RELEASES.items()
         for index in range(len(spec.forms))]


@pytest.mark.parametrize('key,index', FORMS,
                         ids=[f'{k}-{i}' for k, i in FORMS])
def test_every_form_of_the_table_is_found(key, index, tmp_path):
    """A release in each form of the table (built from its description),
    inside a folder named as the dataset, converts with that form: no
    earlier form of the dataset claims it."""
    spec = DATASET_RELEASES[key]
    form = spec.forms[index]
    split, parts = next(iter(form.splits.items()))
    release = Release(tmp_path / 'download' / spec.name)
    split_dir = str(tmp_path / 'splits') if form.split_hint else None
    for name, part in parts.items():
        stems = [f'{name}_{i}' for i in range(2 if name == 'test' else 3)]
        for stem, image_dir in zip(stems, part.image_dirs * 3):
            suffix = form.mask_suffixes[0] if form.mask_suffixes else ''
            release.pair(name, stem, f'{image_dir}/{stem}.png',
                         f'{part.mask_dir}/{stem}{suffix}.png')
        if part.split_files:
            path = part.split_files[0].replace('*', spec.name)
            write(osp.join(split_dir or release.root, path),
                  '\n'.join(stems))
    report = convert_release(key, str(tmp_path / 'download'),
                             str(tmp_path / 'out'), split_dir=split_dir)
    assert (report.form, report.split) == (form, split)
    assert_converted(tmp_path / 'out', release, dict(trainval=3, test=2))


def test_every_dataset_has_a_converter_and_a_config():
    root = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
    for key, spec in DATASET_RELEASES.items():
        assert osp.isfile(osp.join(root, 'tools', 'dataset_converters',
                                   f'{key}.py'))
        assert spec.config == f'configs/_base_/datasets/{key}.py'
        with open(osp.join(root, spec.config)) as handle:
            assert f"data_root = 'datasets/{spec.name}'" in handle.read()


def test_reconversion_keeps_what_the_user_added_or_changed(tmp_path):
    """Issue 29, case 8: what is not exactly what the earlier conversion
    wrote (compared by content, not name) is never replaced."""
    release = sirst_release(tmp_path / 'sirst')
    out = tmp_path / 'out'
    convert_release('sirst', release.root, str(out), copy=True)
    (out / 'my_results').mkdir()
    os.symlink(tmp_path / 'sirst', out / 'trainval' / 'source')
    with pytest.raises(DatasetConversionError,
                       match=r'plus files, folders or links this tool did '
                       r'not write \(my_results, trainval/source\): move '
                       'them away or choose another destination; nothing '
                       'was written'):
        convert_release('sirst', release.root, str(out), copy=True)
    assert (out / 'my_results').is_dir()
    assert (out / 'trainval' / 'source').is_symlink()
    os.rmdir(out / 'my_results')
    os.remove(out / 'trainval' / 'source')
    mask = out / 'test' / 'masks' / 'Misc_4.png'
    edited = png_bytes(99, mask=True)
    mask.write_bytes(edited)  # a corrected mask, edited in the copy
    with pytest.raises(DatasetConversionError,
                       match=r'plus files changed since it wrote them '
                       r'\(test/masks/Misc_4.png\)'):
        convert_release('sirst', release.root, str(out), copy=True)
    assert mask.read_bytes() == edited
    mask.write_bytes(release.expected['test/masks/Misc_4.png'])
    report = convert_release('sirst', release.root, str(out), copy=True)
    assert report.replaced_earlier
    assert_converted(out, release, dict(trainval=3, test=2))


def test_destination_holding_an_empty_folder_is_refused_first(tmp_path):
    release = sirst_release(tmp_path / 'sirst')
    (tmp_path / 'out' / 'empty').mkdir(parents=True)
    with pytest.raises(DatasetConversionError,
                       match='is not empty and is not an earlier SIRST '
                       'conversion by this tool'):
        convert_release('sirst', release.root, str(tmp_path / 'out'))
    assert sorted(os.listdir(tmp_path)) == ['out', 'sirst']


def test_archive_with_a_path_as_file_and_folder(tmp_path):
    archive = str(tmp_path / 'odd.zip')
    with zipfile.ZipFile(archive, 'w') as handle:
        handle.writestr('sirst/images', b'a file')
        handle.writestr('sirst/images/Misc_1.png', png_bytes(0))
    with pytest.raises(DatasetConversionError,
                       match=r'odd\.zip holds sirst/images both as a file '
                       'and as a folder; refusing to extract it'):
        convert_release('sirst', archive, str(tmp_path / 'out'))
    assert sorted(os.listdir(tmp_path)) == ['odd.zip']


def test_archive_extracting_too_much_is_refused(tmp_path, monkeypatch):
    import serankdet.datasets.releases as releases
    release = sirst_release(tmp_path / 'sirst')
    archive = str(tmp_path / 'sirst.zip')
    zip_folder(release.root, archive, junk=False)
    with zipfile.ZipFile(archive) as handle:
        size = sum(info.file_size for info in handle.infolist())
    monkeypatch.setattr(releases, 'MAX_EXTRACT_BYTES', size - 1)
    with pytest.raises(DatasetConversionError,
                       match=rf'sirst\.zip would extract {size} bytes, more '
                       rf'than the {size - 1} bytes one archive may extract'):
        convert_release('sirst', archive, str(tmp_path / 'out'))
    assert sorted(os.listdir(tmp_path)) == ['sirst', 'sirst.zip']


def test_decompression_bomb_header_is_a_problem_of_the_file(tmp_path):
    import struct
    import zlib
    release = sirst_release(tmp_path / 'sirst')

    def chunk(kind, data):
        return (struct.pack('>I', len(data)) + kind + data +
                struct.pack('>I', zlib.crc32(kind + data)))

    bomb = (b'\x89PNG\r\n\x1a\n' + chunk(
        b'IHDR', struct.pack('>IIBBBBB', 100000, 100000, 8, 0, 0, 0, 0)) +
            chunk(b'IDAT', zlib.compress(b'\0' * 100)) + chunk(b'IEND', b''))
    write(osp.join(release.root, 'images', 'Misc_2.png'), bomb)
    with pytest.raises(DatasetConversionError,
                       match=r'1 problem, nothing was written:\n  '
                       r'images/Misc_2\.png: Image size \(10000000000 '
                       r'pixels\) exceeds limit'):
        convert_release('sirst', release.root, str(tmp_path / 'out'))


def test_split_file_that_is_not_utf8_is_named(tmp_path):
    release = sirst_release(tmp_path / 'sirst')
    write(osp.join(release.root, 'idx_427', 'test.txt'),
          'Misc_4\nMisc_5\xe9'.encode('latin-1'))
    with pytest.raises(DatasetConversionError,
                       match=rf'split file {release.root}/idx_427/test\.txt '
                       'is not UTF-8 text; save it as UTF-8'):
        convert_release('sirst', release.root, str(tmp_path / 'out'))


def test_one_conversion_into_a_destination_at_a_time(tmp_path):
    from serankdet.utils.file_lock import exclusive_lock
    release = sirst_release(tmp_path / 'sirst')
    with exclusive_lock(str(tmp_path / '.out.lock')):
        with pytest.raises(DatasetConversionError,
                           match=rf'another conversion into {tmp_path}/out '
                           rf'is running \(pid {os.getpid()}\): wait for it '
                           'to end; nothing was written'):
            convert_release('sirst', release.root, str(tmp_path / 'out'))
    assert sorted(os.listdir(tmp_path)) == ['sirst']


def test_rerun_removes_what_a_killed_conversion_left(tmp_path):
    release = sirst_release(tmp_path / 'sirst')
    left = ['.out.extract-1a2b', '.out.partial-3c4d', '.out.old-5e6f']
    for name in left + ['.other.partial-7a8b']:
        write(str(tmp_path / name / 'trainval' / 'x.png'), b'half')
    convert_release('sirst', release.root, str(tmp_path / 'out'))
    assert sorted(os.listdir(tmp_path)) == ['.other.partial-7a8b', 'out',
                                            'sirst']


def test_files_from_an_archive_are_reported_as_extracted(tmp_path):
    release = sirst_release(tmp_path / 'sirst')
    archive = str(tmp_path / 'sirst.zip')
    zip_folder(release.root, archive, junk=False)
    report = convert_release('sirst', archive, str(tmp_path / 'out'))
    assert (report.linked, report.copied, report.extracted) == (0, 0, 10)
    assert (f'written to {tmp_path}/out (10 files extracted from archives; '
            'the source is unchanged)') in report.format()
