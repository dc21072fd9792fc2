"""Reading frames at native bit depth and masks as {0, 1}."""
import errno
import io
import os
import zlib

import cv2
import numpy as np
import pytest
import tifffile
from PIL import Image

from serankdet.datasets import InvalidSampleError
from serankdet.datasets import image_io
from serankdet.datasets.image_io import (imread_gray, imread_mask,
                                         imread_unchanged)
from serankdet.datasets.transforms import (LoadIRSTDAnnotations,
                                           LoadIRSTDImageFromFile)

# pure red, green, blue, white, a gray and a mixed colour, with their BT.601
# luma round(0.299 R + 0.587 G + 0.114 B) worked out by hand
COLOURS = np.array([[255, 0, 0], [0, 255, 0], [0, 0, 255], [255, 255, 255],
                    [77, 77, 77], [100, 150, 200]], np.uint8)
LUMA = np.array([76, 150, 29, 255, 77, 141], np.uint8)  # 140.75 for the last


def _load(path):
    return LoadIRSTDImageFromFile()(dict(img_path=str(path)))


@pytest.mark.parametrize('ext', ['.png', '.tif'])
def test_16bit_read_at_native_depth(tmp_path, ext):
    img = (np.arange(12, dtype=np.uint16).reshape(3, 4) * 5000 + 7)
    path = tmp_path / f'a{ext}'
    cv2.imwrite(str(path), img)
    results = _load(path)
    assert results['img'].dtype == np.uint16
    np.testing.assert_array_equal(results['img'], img)
    assert results['img_max_value'] == 65535
    assert results['ori_shape'] == results['img_shape'] == (3, 4)


def test_8bit_float_and_max_value_override(tmp_path):
    img8 = np.array([[0, 10], [200, 255]], np.uint8)
    cv2.imwrite(str(tmp_path / 'a.png'), img8)
    results = _load(tmp_path / 'a.png')
    assert results['img'].dtype == np.uint8 and results['img_max_value'] == 255
    np.testing.assert_array_equal(results['img'], img8)

    imgf = np.array([[0.0, 0.25], [0.5, 1.0]], np.float32)
    tifffile.imwrite(tmp_path / 'f.tif', imgf)
    results = _load(tmp_path / 'f.tif')
    assert results['img'].dtype == np.float32
    assert results['img_max_value'] == 1.0
    np.testing.assert_array_equal(results['img'], imgf)

    results = LoadIRSTDImageFromFile(max_value=4095)(
        dict(img_path=str(tmp_path / 'a.png')))
    assert results['img_max_value'] == 4095


def test_colour_modes_become_luma(tmp_path):
    rgb = COLOURS.reshape(2, 3, 3)
    Image.fromarray(rgb, 'RGB').save(tmp_path / 'rgb.png')
    # alpha must be dropped, not blended: use a non-opaque alpha
    rgba = np.dstack([rgb, np.full((2, 3), 40, np.uint8)])
    Image.fromarray(rgba, 'RGBA').save(tmp_path / 'rgba.png')
    # palette: the stored indices (0..5) differ from the colours, so a
    # reader that ignored the palette would give 0..5
    pal = Image.new('P', (3, 2))
    pal.putpalette(COLOURS[::-1].flatten().tolist())
    pal.putdata([5, 4, 3, 2, 1, 0])
    pal.save(tmp_path / 'p.png')
    Image.fromarray(rgb, 'RGB').save(tmp_path / 'rgb.bmp')
    for name in ['rgb.png', 'rgba.png', 'p.png', 'rgb.bmp']:
        results = _load(tmp_path / name)
        assert results['img'].dtype == np.uint8, name
        np.testing.assert_array_equal(results['img'], LUMA.reshape(2, 3),
                                      err_msg=name)


def test_gray_alpha_and_in_memory_arrays(tmp_path):
    gray = np.array([[3, 200]], np.uint8)
    Image.fromarray(np.dstack([gray, np.zeros_like(gray)]), 'LA').save(
        tmp_path / 'la.png')
    np.testing.assert_array_equal(_load(tmp_path / 'la.png')['img'], gray)

    bgr = COLOURS[:, ::-1].reshape(2, 3, 3)  # OpenCV order in memory
    results = LoadIRSTDImageFromFile()(dict(img=bgr.copy()))
    np.testing.assert_array_equal(results['img'], LUMA.reshape(2, 3))
    assert results['img_max_value'] == 255
    u16 = np.array([[1, 60000]], np.uint16)
    results = LoadIRSTDImageFromFile()(dict(img=u16))
    assert results['img'].dtype == np.uint16
    assert results['img_max_value'] == 65535
    with pytest.raises(KeyError, match='img_path'):
        LoadIRSTDImageFromFile()(dict())


def test_unsupported_and_corrupt_files(tmp_path):
    tifffile.imwrite(tmp_path / 'i32.tif', np.ones((2, 2), np.int32))
    with pytest.raises(InvalidSampleError, match='i32.tif.*int32'):
        imread_gray(str(tmp_path / 'i32.tif'))
    (tmp_path / 'bad.png').write_bytes(b'not an image')
    with pytest.raises(InvalidSampleError, match='bad.png'):
        imread_gray(str(tmp_path / 'bad.png'))
    with pytest.raises(FileNotFoundError, match='missing.png'):
        imread_gray(str(tmp_path / 'missing.png'))


def test_mask_nonzero_is_target(tmp_path):
    mask = np.array([[0, 1, 255], [0, 128, 0]], np.uint8)
    cv2.imwrite(str(tmp_path / 'm.png'), mask)
    expected = np.array([[0, 1, 1], [0, 1, 0]], np.uint8)
    np.testing.assert_array_equal(imread_mask(str(tmp_path / 'm.png')),
                                  expected)
    # colour mask with an opaque alpha channel: alpha is not target
    rgba = np.zeros((2, 3, 4), np.uint8)
    rgba[..., 3] = 255
    rgba[0, 1, 2] = 9  # one colour channel set
    rgba[0, 2] = (255, 255, 255, 255)
    rgba[1, 1, 0] = 1
    Image.fromarray(rgba, 'RGBA').save(tmp_path / 'rgba.png')
    np.testing.assert_array_equal(imread_mask(str(tmp_path / 'rgba.png')),
                                  expected)

    cv2.imwrite(str(tmp_path / 'i.png'), np.zeros((2, 3), np.uint8))
    results = LoadIRSTDImageFromFile()(dict(img_path=str(tmp_path / 'i.png'),
                                            seg_map_path=str(tmp_path /
                                                             'm.png'),
                                            seg_fields=[]))
    results = LoadIRSTDAnnotations()(results)
    assert results['gt_seg_map'].dtype == np.uint8
    np.testing.assert_array_equal(results['gt_seg_map'], expected)
    assert results['seg_fields'] == ['gt_seg_map']


def test_annotations_size_mismatch_and_missing_gt(tmp_path):
    cv2.imwrite(str(tmp_path / 'i.png'), np.zeros((4, 4), np.uint8))
    cv2.imwrite(str(tmp_path / 'm.png'), np.zeros((4, 5), np.uint8))
    results = _load(tmp_path / 'i.png')
    results['seg_map_path'] = str(tmp_path / 'm.png')
    with pytest.raises(InvalidSampleError, match=r'm\.png is 5x4.*i\.png'):
        LoadIRSTDAnnotations()(results)
    # inference: no mask path -> nothing loaded, no error
    results = LoadIRSTDAnnotations()(_load(tmp_path / 'i.png'))
    assert 'gt_seg_map' not in results


def _encoded(ext, shape=(40, 48), **pil_args):
    """Bytes of a noisy image (noise does not compress to a few bytes)."""
    img = np.random.default_rng(0).integers(0, 256, shape, np.uint8)
    if pil_args:
        buffer = io.BytesIO()
        Image.fromarray(img).save(buffer, **pil_args)
        return buffer.getvalue()
    return cv2.imencode(ext, img)[1].tobytes()


@pytest.mark.parametrize('ext', ['.png', '.jpg', '.bmp', '.tif'])
@pytest.mark.parametrize('keep', [0.5, 0.99])
def test_truncated_files_are_rejected(tmp_path, ext, keep):
    data = _encoded(ext)
    path = tmp_path / f'cut{ext}'
    path.write_bytes(data[:int(len(data) * keep)])
    with pytest.raises(InvalidSampleError, match=f'cannot decode {path}'):
        imread_unchanged(str(path))
    with pytest.raises(InvalidSampleError, match=f'cannot decode {path}'):
        imread_gray(str(path))


def test_truncation_caught_where_the_decoder_accepts_it(tmp_path,
                                                        monkeypatch):
    """OpenCV 4.10 decodes a truncated JPEG into a partial image (libjpeg
    only warns); the end markers are checked before decoding."""
    whole = cv2.imdecode(np.frombuffer(_encoded('.png'), np.uint8),
                         cv2.IMREAD_UNCHANGED)
    monkeypatch.setattr(image_io.cv2, 'imdecode', lambda *args: whole)
    jpeg = _encoded('.jpg')
    thumbnail = _encoded('.jpg', shape=(4, 4))  # complete, with its own EOI
    app1 = b'Exif\x00\x00' + thumbnail
    with_thumbnail = (jpeg[:2] + b'\xff\xe1' +
                      (len(app1) + 2).to_bytes(2, 'big') + app1 + jpeg[2:])
    for name, data, reason in [
            ('a.jpg', jpeg, 'truncated JPEG'),
            ('p.jpg', _encoded(None, format='JPEG', progressive=True),
             'truncated JPEG'),
            ('t.jpg', with_thumbnail, 'truncated JPEG'),
            ('a.png', _encoded('.png'), 'truncated PNG')]:
        path = tmp_path / name
        path.write_bytes(data)
        assert imread_unchanged(str(path)) is whole
        # cuts anywhere, down to the last byte of the end marker
        for end in [*range(8, len(data), 101), len(data) - 2, len(data) - 1]:
            path.write_bytes(data[:end])
            with pytest.raises(InvalidSampleError,
                               match=f'cannot decode {path}: {reason}'):
                imread_unchanged(str(path))


def test_bytes_after_the_end_are_accepted(tmp_path):
    for ext in ('.png', '.jpg'):
        path = tmp_path / f'a{ext}'
        path.write_bytes(_encoded(ext) + b'\x00trailing\xff\xd8\xff\xda')
        assert imread_unchanged(str(path)).shape == (40, 48)


# --- hostile input (issue 29): sizes from headers, float ranges, writing ---

@pytest.mark.parametrize('ext', ['.png', '.jpg', '.bmp', '.tif'])
def test_header_gives_the_size_without_decoding(tmp_path, ext, monkeypatch):
    ok, encoded = cv2.imencode(ext, np.zeros((37, 53), np.uint8))
    assert ok
    monkeypatch.setattr(image_io.cv2, 'imdecode', None)  # never called
    assert image_io.image_header(encoded.tobytes()) == (53, 37, 1)


def test_frames_above_the_pixel_budget_are_refused_before_decoding(
        tmp_path, monkeypatch):
    # a PNG header announcing 16000x16000 (the rest of the file missing):
    # refused by its size, neither allocated nor reported as truncated
    ihdr = b'IHDR' + (16000).to_bytes(4, 'big') * 2 + bytes([8, 0, 0, 0, 0])
    header = (b'\x89PNG\r\n\x1a\n' + (13).to_bytes(4, 'big') + ihdr
              + zlib.crc32(ihdr).to_bytes(4, 'big')
              + (1 << 20).to_bytes(4, 'big') + b'IDAT')
    (tmp_path / 'huge.png').write_bytes(header)
    monkeypatch.delenv(image_io.MAX_IMAGE_PIXELS_ENV, raising=False)
    with pytest.raises(InvalidSampleError) as error:
        imread_gray(str(tmp_path / 'huge.png'))
    assert str(error.value) == (
        f'{tmp_path / "huge.png"} is 16000x16000 = 256000000 pixels, more '
        'than the 134217728 a frame may have to be decoded; split it into '
        'smaller frames or set SERANKDET_MAX_IMAGE_PIXELS to a larger budget')
    assert image_io.max_image_pixels() == 1 << 27  # the default
    # a real frame over a budget set by the environment is refused alike
    cv2.imwrite(str(tmp_path / 'a.png'), np.zeros((30, 40), np.uint8))
    monkeypatch.setenv(image_io.MAX_IMAGE_PIXELS_ENV, '1199')
    with pytest.raises(InvalidSampleError, match='40x30 = 1200 pixels'):
        _load(tmp_path / 'a.png')
    monkeypatch.setenv(image_io.MAX_IMAGE_PIXELS_ENV, 'lots')
    with pytest.raises(ValueError, match="SERANKDET_MAX_IMAGE_PIXELS='lots'"):
        _load(tmp_path / 'a.png')


def test_multipage_tiff_reads_page_one_with_a_warning(tmp_path, monkeypatch):
    pages = np.arange(3 * 4 * 5, dtype=np.uint16).reshape(3, 4, 5)
    with tifffile.TiffWriter(tmp_path / 'stack.tif') as tiff:
        for page in pages:
            tiff.write(page)
    warnings = []
    monkeypatch.setattr(image_io, 'print_log',
                        lambda msg, **kwargs: warnings.append(msg))
    np.testing.assert_array_equal(_load(tmp_path / 'stack.tif')['img'],
                                  pages[0])
    assert warnings == [f'{tmp_path / "stack.tif"} holds 3 pages: only the '
                        'first is read']


def test_float_frames_must_be_finite_and_in_range(tmp_path):
    imgf = np.array([[0.0, 0.25], [np.nan, 1.0]], np.float32)
    tifffile.imwrite(tmp_path / 'nan.tif', imgf)
    with pytest.raises(InvalidSampleError,
                       match=r'nan\.tif: 1 pixels are NaN or infinite'):
        _load(tmp_path / 'nan.tif')
    imgf[1, 0] = np.inf
    with pytest.raises(InvalidSampleError, match='input array: 1 pixels'):
        LoadIRSTDImageFromFile()(dict(img=imgf))
    kelvin = np.array([[250.0, 300.0]], np.float32)
    tifffile.imwrite(tmp_path / 'kelvin.tif', kelvin)
    with pytest.raises(InvalidSampleError) as error:
        _load(tmp_path / 'kelvin.tif')
    assert str(error.value) == (
        f'{tmp_path / "kelvin.tif"}: float pixels range from 250 to 300, '
        'but float frames are intensities on [0, 1]; scale the frame to '
        "[0, 1] or set the loader's max_value to its full scale")
    results = LoadIRSTDImageFromFile(max_value=300.0)(
        dict(img_path=str(tmp_path / 'kelvin.tif')))
    assert results['img_max_value'] == 300.0


def test_writers_take_any_name_and_leave_nothing_partial(tmp_path,
                                                         monkeypatch):
    # a name that is not UTF-8: Python's file functions take it
    path = os.fsdecode(os.fsencode(str(tmp_path)) + b'/out/b\xff.png')
    image = np.arange(12, dtype=np.uint16).reshape(3, 4)
    image_io.imwrite(path, image)
    assert os.listdir(os.fsencode(str(tmp_path / 'out'))) == [b'b\xff.png']
    np.testing.assert_array_equal(
        cv2.imdecode(np.fromfile(path, np.uint8), cv2.IMREAD_UNCHANGED),
        image)
    image_io.write_npy(str(tmp_path / 'out' / 'p.npy'), image)
    np.testing.assert_array_equal(np.load(tmp_path / 'out' / 'p.npy'), image)

    class FullDisk(io.FileIO):
        def write(self, data):
            super().write(bytes(data)[:len(data) // 2])
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(image_io, 'open',
                        lambda fd, mode: FullDisk(fd, 'wb'), raising=False)
    with pytest.raises(OSError) as error:
        image_io.write_npy(str(tmp_path / 'out' / 'p.npy'), image * 2)
    assert error.value.errno == errno.ENOSPC
    assert error.value.filename == str(tmp_path / 'out' / 'p.npy')
    # the earlier file is intact, no partial file is left
    np.testing.assert_array_equal(np.load(tmp_path / 'out' / 'p.npy'), image)
    assert sorted(os.listdir(tmp_path / 'out')) == ['b\udcff.png', 'p.npy']
    with pytest.raises(ValueError, match='not an image format'):
        image_io.imwrite(os.fsdecode(b'x.p\xffng'), image)


# ---------------------------------------------------------------------------
# color_type='rgb': what PIL Image.open(path).convert('RGB') gives


def _load_rgb(path):
    return LoadIRSTDImageFromFile(color_type='rgb')(dict(img_path=str(path)))


def test_rgb_keeps_channels_in_rgb_order(tmp_path):
    rgb = COLOURS.reshape(2, 3, 3)
    # written by OpenCV from a BGR array: the file holds the colours above
    cv2.imwrite(str(tmp_path / 'bgr.png'), rgb[..., ::-1])
    Image.fromarray(rgb, 'RGB').save(tmp_path / 'rgb.bmp')
    for name in ('bgr.png', 'rgb.bmp'):
        results = _load_rgb(tmp_path / name)
        assert results['img'].shape == (2, 3, 3), name
        assert results['img'].dtype == np.uint8
        np.testing.assert_array_equal(results['img'], rgb, err_msg=name)
        assert results['img_shape'] == results['ori_shape'] == (2, 3)
        assert results['img_max_value'] == 255
    # first pixel pure red: R=255 in channel 0, not channel 2
    assert results['img'][0, 0].tolist() == [255, 0, 0]


def test_rgb_drops_alpha_and_expands_palettes_as_pil(tmp_path):
    rgb = COLOURS.reshape(2, 3, 3)
    # a non-opaque alpha: PIL drops it without compositing
    rgba = np.dstack([rgb, np.array([[0, 40, 90], [128, 200, 255]],
                                    np.uint8)])
    Image.fromarray(rgba, 'RGBA').save(tmp_path / 'rgba.png')
    pal = Image.new('P', (3, 2))
    pal.putpalette(COLOURS[::-1].flatten().tolist())
    pal.putdata([5, 4, 3, 2, 1, 0])
    pal.save(tmp_path / 'p.png')
    # a palette with a transparent entry (tRNS): libpng gives BGRA
    pal.save(tmp_path / 'p_trns.png', transparency=2)
    for name in ('rgba.png', 'p.png', 'p_trns.png'):
        expected = np.array(Image.open(tmp_path / name).convert('RGB'))
        np.testing.assert_array_equal(_load_rgb(tmp_path / name)['img'],
                                      expected, err_msg=name)
    np.testing.assert_array_equal(_load_rgb(tmp_path / 'rgba.png')['img'],
                                  rgb)
    np.testing.assert_array_equal(_load_rgb(tmp_path / 'p.png')['img'], rgb)


def test_rgb_replicates_gray_at_native_depth(tmp_path):
    gray = np.array([[3, 200], [0, 255]], np.uint8)
    cv2.imwrite(str(tmp_path / 'l.png'), gray)
    Image.fromarray(np.dstack([gray, np.full_like(gray, 7)]), 'LA').save(
        tmp_path / 'la.png')
    for name in ('l.png', 'la.png'):
        img = _load_rgb(tmp_path / name)['img']
        np.testing.assert_array_equal(img, np.dstack([gray] * 3),
                                      err_msg=name)
        np.testing.assert_array_equal(
            img, np.array(Image.open(tmp_path / name).convert('RGB')))
    u16 = np.array([[1, 60000], [4095, 65535]], np.uint16)
    cv2.imwrite(str(tmp_path / 'u16.png'), u16)
    results = _load_rgb(tmp_path / 'u16.png')
    assert results['img'].dtype == np.uint16
    assert results['img_max_value'] == 65535
    np.testing.assert_array_equal(results['img'], np.dstack([u16] * 3))


def test_rgb_in_memory_arrays_and_errors(tmp_path):
    bgr = COLOURS[:, ::-1].reshape(2, 3, 3)  # OpenCV order in memory
    load = LoadIRSTDImageFromFile(color_type='rgb')
    np.testing.assert_array_equal(load(dict(img=bgr.copy()))['img'],
                                  COLOURS.reshape(2, 3, 3))
    bgra = np.dstack([bgr, np.zeros((2, 3), np.uint8)])
    np.testing.assert_array_equal(load(dict(img=bgra))['img'],
                                  COLOURS.reshape(2, 3, 3))
    f64 = np.array([[0.0, 0.5]])
    out = load(dict(img=f64))['img']
    assert out.dtype == np.float32 and out.shape == (1, 2, 3)
    np.testing.assert_array_equal(out[..., 2], f64)
    with pytest.raises(InvalidSampleError,
                       match=r'input array: cannot convert an array of shape '
                       r'\(2, 3, 5\) to an RGB image'):
        load(dict(img=np.zeros((2, 3, 5), np.uint8)))
    with pytest.raises(ValueError, match="color_type must be one of .*'bgr'"):
        LoadIRSTDImageFromFile(color_type='bgr')
    tifffile.imwrite(tmp_path / 'i32.tif', np.ones((2, 2), np.int32))
    with pytest.raises(InvalidSampleError, match='i32.tif.*int32'):
        image_io.imread_rgb(str(tmp_path / 'i32.tif'))
    assert "color_type='rgb'" in repr(load)
    assert "color_type='gray'" in repr(LoadIRSTDImageFromFile())


def test_rgb_refuses_oversized_frames_before_decoding(tmp_path, monkeypatch):
    cv2.imwrite(str(tmp_path / 'big.png'), np.zeros((20, 30, 3), np.uint8))
    monkeypatch.setenv(image_io.MAX_IMAGE_PIXELS_ENV, '100')
    with pytest.raises(InvalidSampleError, match='big.png is 30x20 = 600 '
                       'pixels, more than the 100'):
        image_io.imread_rgb(str(tmp_path / 'big.png'))


def test_rgb_equals_pil_on_every_real_sirst_image(shared_datasets_dir):
    """All SIRST images (gray, RGB, RGBA and palette PNGs) load as PIL's
    convert('RGB'), bit for bit."""
    root = os.path.join(shared_datasets_dir, 'SIRST')
    if not os.path.isdir(root):
        pytest.skip(f'{root} is not available')
    load = LoadIRSTDImageFromFile(color_type='rgb')
    modes, count = set(), 0
    for split in ('trainval', 'test'):
        folder = os.path.join(root, split, 'images')
        for name in sorted(os.listdir(folder)):
            path = os.path.join(folder, name)
            with Image.open(path) as pil:
                modes.add(pil.mode)
                expected = np.array(pil.convert('RGB'))
            np.testing.assert_array_equal(load(dict(img_path=path))['img'],
                                          expected, err_msg=path)
            count += 1
    assert count == 427
    assert {'L', 'RGB', 'RGBA', 'P'} <= modes
