"""tools/misc/check_dataset.py reports every problem of a dataset at once."""
import os.path as osp
import shutil

import cv2
import numpy as np
import pytest

from serankdet.datasets.check import check_dataset, layout_splits
from tests.tool_runner import run_tool_cli


def test_shared_sirst_is_clean(shared_datasets_dir):
    report = check_dataset(layout_splits(osp.join(shared_datasets_dir,
                                                  'SIRST')))
    assert report.errors == []
    assert {k: v.pairs for k, v in report.splits.items()} == dict(
        test=86, trainval=341)
    formats = report.splits['trainval'].image_formats
    assert set(formats) == {'8-bit RGB', '8-bit L', '8-bit RGBA', '8-bit P'}
    assert sum(formats.values()) == 341
    assert report.splits['test'].mask_formats == {'8-bit L': 86}


def test_broken_copy_reports_every_problem(shared_datasets_dir, tmp_path,
                                           capsys):
    """A few SIRST files with the original release's Misc_111 mask (592x400
    for a 325x220 image) and every other kind of problem."""
    sirst = osp.join(shared_datasets_dir, 'SIRST')
    root = tmp_path / 'broken'
    for split in ('trainval', 'test'):
        for kind in ('images', 'masks'):
            (root / split / kind).mkdir(parents=True)

    def copy(split, kind, stem, to_split=None):
        shutil.copy(osp.join(sirst, split, kind, f'{stem}.png'),
                    root / (to_split or split) / kind / f'{stem}.png')

    copy('test', 'images', 'Misc_111')
    shutil.copy(osp.join(sirst, 'extras', 'v1_original_mask',
                         'Misc_111_pixels0.png'),
                root / 'test' / 'masks' / 'Misc_111.png')
    for kind in ('images', 'masks'):
        copy('trainval', kind, 'Misc_1')
        copy('trainval', kind, 'Misc_1', to_split='test')  # in both splits
        copy('trainval', kind, 'Misc_10')
    copy('trainval', 'images', 'Misc_100')  # no mask
    copy('trainval', 'masks', 'Misc_101')  # no image
    masks = root / 'trainval' / 'masks'
    soft = np.zeros((240, 320), np.uint8)
    soft[10:13, 10:13] = [[0, 128, 0], [128, 255, 128], [0, 128, 0]]
    copy('trainval', 'images', 'Misc_102')
    img = cv2.imread(osp.join(sirst, 'trainval', 'images', 'Misc_102.png'))
    soft = cv2.resize(soft, img.shape[1::-1], interpolation=cv2.INTER_NEAREST)
    cv2.imwrite(str(masks / 'Misc_102.png'), soft)
    copy('trainval', 'images', 'Misc_103')
    img = cv2.imread(osp.join(sirst, 'trainval', 'images', 'Misc_103.png'))
    cv2.imwrite(str(masks / 'Misc_103.png'), np.zeros(img.shape[:2]))  # empty
    (root / 'trainval' / 'images' / 'Misc_104.png').write_bytes(b'\x89PNG??')
    shutil.copy(masks / 'Misc_102.png', masks / 'Misc_104.png')

    with pytest.raises(SystemExit) as info:
        run_tool_cli('misc/check_dataset', str(root))
    assert info.value.code == 1
    out = capsys.readouterr().out
    tv, test = root / 'trainval', root / 'test'
    for problem in [
            f'{tv}/images/Misc_104.png: unreadable (corrupt, truncated or '
            'not an image)',
            f'{tv}/images/Misc_100.png: no mask Misc_100.* in {tv}/masks',
            f'{tv}/masks/Misc_102.png: mask is not binary (3 values: 0, 128, '
            '255); the loader counts every non-zero pixel as target',
            f'{tv}/masks/Misc_101.png: mask without image in {tv}/images',
            f'{test}/masks/Misc_111.png: mask is 592x400 but its image '
            f'{test}/images/Misc_111.png is 325x220 (WxH)',
            "'Misc_1' is in several splits: test, trainval"]:
        assert f'\n  {problem}\n' in out + '\n'
    assert '6 problems:' in out
    assert 'trainval: 4 image/mask pairs, 1 with an empty mask' in out
    assert 'test: 2 image/mask pairs, 0 with an empty mask' in out


def test_config_input(tmp_path, capsys):
    """A config is checked through its dataloaders (the synthetic set)."""
    from serankdet.datasets import ensure_synthetic_dataset
    from tests.tool_runner import write_tiny_config
    ensure_synthetic_dataset(str(tmp_path / 'data'), num_train=12,
                             num_test=5, img_size=(64, 64), seed=1)
    assert run_tool_cli('misc/check_dataset',
                        write_tiny_config(str(tmp_path))) == 0
    out = capsys.readouterr().out
    assert 'train: 12 image/mask pairs' in out
    assert 'val: 5 image/mask pairs' in out and 'no problems found' in out


@pytest.mark.parametrize('ext', ['.png', '.jpg', '.bmp'])
def test_truncated_files_are_reported(tmp_path, capsys, ext):
    """Every file is decoded entirely: a file cut in half (an interrupted
    copy) is reported, whichever of image or mask it is."""
    noise = np.random.default_rng(0).integers(0, 256, (40, 48), np.uint8)
    for split in ('trainval', 'test'):
        for kind in ('images', 'masks'):
            (tmp_path / split / kind).mkdir(parents=True)
        for stem in (f'{split}_a', f'{split}_b'):
            cv2.imwrite(str(tmp_path / split / 'images' / f'{stem}{ext}'),
                        noise)
            cv2.imwrite(str(tmp_path / split / 'masks' / f'{stem}.png'),
                        noise // 200 * 255)
    cut = [tmp_path / 'trainval' / 'images' / f'trainval_b{ext}',
           tmp_path / 'test' / 'masks' / 'test_a.png']
    for path in cut:
        data = path.read_bytes()
        path.write_bytes(data[:len(data) // 2])
    with pytest.raises(SystemExit) as info:
        run_tool_cli('misc/check_dataset', str(tmp_path))
    assert info.value.code == 1
    out = capsys.readouterr().out
    assert '2 problems:' in out
    for path in cut:
        assert (f'\n  {path}: unreadable (corrupt, truncated or not an '
                'image)\n') in out + '\n'
    assert 'trainval: 1 image/mask pairs' in out
    assert 'test: 1 image/mask pairs' in out
