"""IRSTDDataset indexing, error handling and the real SIRST/NUDT-SIRST data."""
import logging
import os.path as osp
import re

import cv2
import numpy as np
import pytest
from mmengine.logging import MMLogger
from PIL import Image

from serankdet.datasets import IRSTDDataset, InvalidSampleError

PIPELINE = [
    dict(type='LoadIRSTDImageFromFile'),
    dict(type='LoadIRSTDAnnotations'),
    dict(type='PackIRSTDInputs')
]


def _write(path, shape=(6, 8), value=0, dtype=np.uint8):
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), np.full(shape, value, dtype))


@pytest.fixture
def root(tmp_path):
    """trainval: b.png, a.bmp (mask a.png), c.tif; test: d.png."""
    tv = tmp_path / 'trainval'
    _write(tv / 'images' / 'b.png')
    _write(tv / 'images' / 'a.bmp')
    _write(tv / 'images' / 'c.tif', dtype=np.uint16)
    (tv / 'images' / 'notes.txt').write_text('ignored')
    for stem in 'abc':
        _write(tv / 'masks' / f'{stem}.png', value=255)
    _write(tmp_path / 'test' / 'images' / 'd.png')
    _write(tmp_path / 'test' / 'masks' / 'd.png')
    return tmp_path


class _ListHandler(logging.Handler):

    def __init__(self):
        super().__init__(logging.WARNING)
        self.messages = []

    def emit(self, record):
        self.messages.append(record.getMessage())


@pytest.fixture
def warnings_logged():
    """The WARNING messages logged through mmengine's current logger."""
    handler = _ListHandler()
    logger = MMLogger.get_current_instance()
    logger.addHandler(handler)
    yield handler.messages
    logger.removeHandler(handler)


def _truncate(path):
    """Cut a file in half, as an interrupted copy leaves it."""
    data = path.read_bytes()
    path.write_bytes(data[:len(data) // 2])


def _noisy(path, shape=(6, 8)):
    """An image that does not compress to a few bytes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path),
                np.random.default_rng(0).integers(0, 256, shape, np.uint8))


def _dataset(root, split='trainval', **kwargs):
    kwargs.setdefault('data_prefix', dict(img_path=f'{split}/images',
                                          seg_map_path=f'{split}/masks'))
    return IRSTDDataset(data_root=str(root), pipeline=PIPELINE, **kwargs)


def test_sorted_index_and_mask_by_stem(root):
    ds = _dataset(root)
    assert ds.metainfo['classes'] == ('background', 'target')
    infos = [ds.get_data_info(i) for i in range(len(ds))]
    assert [osp.basename(i['img_path']) for i in infos] == [
        'a.bmp', 'b.png', 'c.tif']
    assert [osp.basename(i['seg_map_path']) for i in infos] == [
        'a.png', 'b.png', 'c.png']
    assert [i['img_id'] for i in infos] == ['a', 'b', 'c']
    item = ds[2]
    assert tuple(item['inputs'].shape) == (1, 6, 8)
    assert item['data_samples'].img_max_value == 65535
    assert item['data_samples'].gt_sem_seg.data.unique().tolist() == [1]


def test_split_file(root):
    (root / 'splits').mkdir()
    # CRLF, blank line, an extension and a duplicate, out of order
    (root / 'splits' / 'train.txt').write_bytes(b'c\r\n\r\nb.png\r\nc\r\n')
    ds = _dataset(root, ann_file='splits/train.txt')
    assert [ds.get_data_info(i)['img_id'] for i in range(len(ds))] == [
        'b', 'c']
    with pytest.raises(FileNotFoundError, match='nope.txt'):
        _dataset(root, ann_file='splits/nope.txt')
    (root / 'splits' / 'bad.txt').write_text('a\nzz\n')
    with pytest.raises(FileNotFoundError, match="'zz'"):
        _dataset(root, ann_file='splits/bad.txt')


def test_images_only_for_inference(root):
    ds = IRSTDDataset(data_root=str(root), pipeline=PIPELINE, test_mode=True,
                      data_prefix=dict(img_path='trainval/images'))
    assert ds.get_data_info(0)['seg_map_path'] is None
    item = ds[0]
    assert 'gt_sem_seg' not in item['data_samples']
    assert tuple(item['inputs'].shape) == (1, 6, 8)


def test_missing_root_and_empty_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match='nowhere'):
        IRSTDDataset(data_root=str(tmp_path / 'nowhere'),
                     data_prefix=dict(img_path='images', seg_map_path='masks'))
    (tmp_path / 'images').mkdir()
    (tmp_path / 'masks').mkdir()
    with pytest.raises(ValueError, match='no usable image'):
        IRSTDDataset(data_root=str(tmp_path))
    with pytest.raises(ValueError, match='on_invalid'):
        IRSTDDataset(data_root=str(tmp_path), on_invalid='ignore')


def test_duplicate_stems_raise(root):
    _write(root / 'trainval' / 'images' / 'a.png')
    with pytest.raises(ValueError, match="stem 'a'"):
        _dataset(root)


def test_image_without_mask(root, warnings_logged):
    _write(root / 'trainval' / 'images' / 'e.png')
    with pytest.raises(FileNotFoundError, match=r'e\.png has no mask'):
        _dataset(root)
    ds = _dataset(root, on_invalid='skip')
    assert len(ds) == 3
    assert len(warnings_logged) == 1
    assert warnings_logged[0].startswith(
        "IRSTDDataset: skipped 1 invalid samples in "
        f"{root}/trainval/images (on_invalid='skip'):\n"
        f"  image {root}/trainval/images/e.png has no mask")


@pytest.fixture
def broken_root(root):
    """Adds f (mask 6x9 vs image 6x8) and g (corrupt image)."""
    _write(root / 'trainval' / 'images' / 'f.png')
    _write(root / 'trainval' / 'masks' / 'f.png', shape=(6, 9))
    (root / 'trainval' / 'images' / 'g.png').write_bytes(b'\x89PNG garbage')
    _write(root / 'trainval' / 'masks' / 'g.png')
    return root


@pytest.mark.parametrize('test_mode', [False, True])
def test_invalid_files_found_while_indexing(broken_root, warnings_logged,
                                            test_mode):
    with pytest.raises(InvalidSampleError, match=r'f\.png is 9x6.*1 more'):
        _dataset(broken_root, check_files=True, test_mode=test_mode)
    # 'skip' decodes every file while indexing, whatever the split
    ds = _dataset(broken_root, on_invalid='skip', test_mode=test_mode)
    assert [ds.get_data_info(i)['img_id'] for i in range(len(ds))] == [
        'a', 'b', 'c']
    assert len(warnings_logged) == 1
    message = warnings_logged[0]
    assert 'skipped 2 invalid samples' in message
    assert (f'  mask {broken_root}/trainval/masks/f.png is 9x6 but its image '
            f'{broken_root}/trainval/images/f.png is 8x6 (WxH)') in message
    assert (f'  cannot decode {broken_root}/trainval/images/g.png: not a '
            'readable PNG/TIFF/JPEG/BMP file') in message


def test_test_set_skips_without_duplicates(root, warnings_logged):
    """A test-mode dataset holds each valid sample exactly once."""
    test = root / 'test'
    for stem in 'hijk':
        _noisy(test / 'images' / f'{stem}.png')
        _write(test / 'masks' / f'{stem}.png')
    _truncate(test / 'images' / 'i.png')
    (test / 'masks' / 'k.png').unlink()
    ds = _dataset(root, split='test', on_invalid='skip', test_mode=True)
    assert len(ds) == 3  # d, h, j
    paths = [ds[i]['data_samples'].img_path for i in range(len(ds))]
    assert sorted(paths) == sorted(set(paths))
    assert [osp.basename(p) for p in paths] == ['d.png', 'h.png', 'j.png']
    with pytest.raises(IndexError):
        ds[len(ds)]
    assert len(warnings_logged) == 1
    assert warnings_logged[0] == (
        f"IRSTDDataset: skipped 2 invalid samples in {test}/images "
        "(on_invalid='skip'):\n"
        f"  cannot decode {test}/images/i.png: truncated PNG (it ends "
        "before its IEND chunk)\n"
        f"  image {test}/images/k.png has no mask: expected a file named "
        f"k.* in {test}/masks")


@pytest.mark.parametrize('ext', ['.png', '.jpg', '.bmp'])
def test_check_files_decodes_truncated_files(root, ext):
    _noisy(root / 'trainval' / 'images' / f't{ext}', shape=(40, 48))
    _write(root / 'trainval' / 'masks' / 't.png', shape=(40, 48))
    _truncate(root / 'trainval' / 'images' / f't{ext}')
    assert len(_dataset(root)) == 4  # not checked
    with pytest.raises(InvalidSampleError,
                       match=rf'cannot decode .*/trainval/images/t\{ext}'):
        _dataset(root, check_files=True)
    # a truncated mask too
    _noisy(root / 'trainval' / 'images' / f't{ext}', shape=(40, 48))
    _noisy(root / 'trainval' / 'masks' / 't.png', shape=(40, 48))
    _truncate(root / 'trainval' / 'masks' / 't.png')
    with pytest.raises(InvalidSampleError,
                       match=r'cannot decode .*/trainval/masks/t\.png: '
                       'truncated PNG'):
        _dataset(root, check_files=True)


def test_invalid_files_found_while_loading(broken_root):
    ds = _dataset(broken_root)
    assert len(ds) == 5  # files not decoded while indexing
    with pytest.raises(InvalidSampleError, match=r'f\.png is 9x6'):
        ds.prepare_data(3)
    with pytest.raises(InvalidSampleError, match=r'cannot decode .*g\.png'):
        ds.prepare_data(4)


def test_file_broken_after_indexing(root, warnings_logged):
    """'skip' checked every file while indexing; one that fails later
    raises in a test-mode dataset and is replaced in a training one."""
    path = root / 'trainval' / 'images' / 'b.png'
    test_ds = _dataset(root, on_invalid='skip', test_mode=True)
    train_ds = _dataset(root, on_invalid='skip')
    assert warnings_logged == []
    path.unlink()
    with pytest.raises(FileNotFoundError) as info:
        test_ds[1]
    assert str(info.value) == (
        f'file {path} does not exist. The file was valid when the dataset '
        'was indexed (changed since?); a test-mode dataset does not replace '
        'a sample by another one, so that each sample is scored once.')
    for _ in range(3):
        item = train_ds[1]  # mmengine draws another sample
        assert tuple(item['inputs'].shape) == (1, 6, 8)
    assert train_ds.prepare_data(1) is None
    assert warnings_logged == [
        f'IRSTDDataset: cannot load sample {path} (file {path} does not '
        'exist); training on another sample instead']


def test_real_sirst_index(shared_datasets_dir):
    """All 427 SIRST images (gray, RGB, RGBA, palette) read as gray and
    agree with PIL's luma to one gray level; masks match their image."""
    root = osp.join(shared_datasets_dir, 'SIRST')
    if not osp.isdir(root):
        pytest.skip(f'{root} is not available')
    total, modes = 0, set()
    for split, count in [('trainval', 341), ('test', 86)]:
        ds = IRSTDDataset(
            data_root=root, check_files=True, pipeline=PIPELINE[:2],
            data_prefix=dict(img_path=f'{split}/images',
                             seg_map_path=f'{split}/masks'))
        assert len(ds) == count
        total += len(ds)
        for i in range(len(ds)):
            results = ds.prepare_data(i)
            img = results['img']
            assert img.ndim == 2 and img.dtype == np.uint8
            with Image.open(results['img_path']) as pil:
                modes.add(pil.mode)
                ref = np.asarray(pil.convert('L'), np.int16)
            assert np.abs(img.astype(np.int16) - ref).max() <= 1
            assert results['gt_seg_map'].shape == img.shape
            assert results['gt_seg_map'].max() == 1
    assert total == 427
    assert modes == {'L', 'RGB', 'RGBA', 'P'}


def test_real_nudt_sirst_index(shared_datasets_dir):
    root = osp.join(shared_datasets_dir, 'NUDT-SIRST')
    if not osp.isdir(root):
        pytest.skip(f'{root} is not available')
    for split, count in [('trainval', 663), ('test', 664)]:
        ds = IRSTDDataset(data_root=root, pipeline=PIPELINE,
                          data_prefix=dict(img_path=f'{split}/images',
                                           seg_map_path=f'{split}/masks'))
        assert len(ds) == count
    item = ds[0]
    assert tuple(item['inputs'].shape) == (1, 256, 256)
    assert item['data_samples'].gt_sem_seg.data.max() == 1


def test_empty_file_is_an_invalid_sample_naming_it(root, warnings_logged):
    """A 0-byte image: OpenCV's ``!buf.empty()`` assertion becomes the
    dataset's invalid-sample error, on every path that decodes it."""
    empty = root / 'trainval' / 'images' / 'e.png'
    empty.write_bytes(b'')
    _write(root / 'trainval' / 'masks' / 'e.png')
    message = f'cannot decode {empty}: the file is empty'
    with pytest.raises(InvalidSampleError, match=re.escape(message)):
        _dataset(root, check_files=True)
    ds = _dataset(root, on_invalid='skip')
    assert [ds.get_data_info(i)['img_id'] for i in range(len(ds))] == [
        'a', 'b', 'c']
    assert f'  {message}' in warnings_logged[0]
    with pytest.raises(InvalidSampleError, match=re.escape(message)):
        _dataset(root).prepare_data(3)
