"""Reading IR frames and masks at their native bit depth.

IRSTD datasets mix formats: SIRST alone holds 8-bit gray, RGB, RGBA and
palette PNGs; sensors deliver 16-bit PNG/TIFF. Every image is decoded with
``cv2.IMREAD_UNCHANGED`` (libpng/libtiff expand palettes through their
palette and low bit depths to 8 bit) and reduced to one channel
(:func:`imread_gray`, :func:`to_gray`):

* gray: kept as is (uint8, uint16 or float);
* BGR: ITU-R BT.601 luma ``0.299 R + 0.587 G + 0.114 B`` (``cv2.cvtColor``,
  the same conversion DATransNet uses; it differs from PIL ``convert('L')``
  by at most one gray level);
* BGRA / gray+alpha: the alpha channel is dropped, then as above;

or turned into three channels in RGB order (:func:`imread_rgb`,
:func:`to_rgb`), as PIL's ``Image.open(path).convert('RGB')`` in the
SeRankDet and SAM-SPL loaders, pixel for pixel on 8-bit files:

* gray and gray+alpha: gray replicated to R, G and B;
* BGR: reversed to RGB;
* BGRA: alpha dropped (not composited, as PIL), then reversed;
* palette: expanded through the palette (by the decoder, see above).

The bit depth is kept in both cases (PIL reduces 16-bit colour files to
8 bit; the toolbox does not).

Float frames are intensities on ``[0, 1]`` (full scale 1.0, or the
``max_value`` given to the loader): :func:`check_intensities` rejects
frames with NaN or infinite pixels and frames outside that range.

Before decoding, the size in the file's header (PNG, JPEG, BMP, TIFF) is
checked against :func:`max_image_pixels`, so a small file that expands to
gigabytes is refused with a message instead of allocated; a multi-page TIFF
is read at its first page, with a warning.

Every image and array the toolbox writes goes through :func:`imwrite` and
:func:`write_npy`: encoded in memory (``cv2.imencode``, ``np.save``) and
written by :func:`write_file` to ``.<name>.partial``, renamed when
complete, so a full disk or a kill leaves no partial file, and file names
need not be valid UTF-8 (Linux names are bytes; only Python's file
functions take them, OpenCV's do not).
"""
import io
import logging
import os
import os.path as osp
import struct
import warnings
from typing import Optional, Tuple

import cv2
import mmengine.fileio as fileio
import numpy as np
from mmengine.logging import print_log
from PIL import (BmpImagePlugin, JpegImagePlugin, PngImagePlugin,
                 TiffImagePlugin)

#: File extensions (lower case) indexed as images or masks.
IMG_EXTENSIONS = ('.png', '.bmp', '.jpg', '.jpeg', '.tif', '.tiff')
#: Environment variable overriding :data:`DEFAULT_MAX_IMAGE_PIXELS`.
MAX_IMAGE_PIXELS_ENV = 'SERANKDET_MAX_IMAGE_PIXELS'
#: Most pixels (width x height) a frame may have to be decoded: 2**27, e.g.
#: 16384 x 8192; 128 MiB as 8-bit gray, 1 GiB while a 16-bit colour file is
#: decoded, about 2.5 GiB for the float copies inference makes of a frame.
DEFAULT_MAX_IMAGE_PIXELS = 1 << 27
#: PIL's header parser of each format, by the file's first bytes.
_HEADER_READERS = {b'\x89PNG': PngImagePlugin.PngImageFile,
                   b'\xff\xd8': JpegImagePlugin.JpegImageFile,
                   b'BM': BmpImagePlugin.BmpImageFile,
                   b'II': TiffImagePlugin.TiffImageFile,
                   b'MM': TiffImagePlugin.TiffImageFile}


class InvalidSampleError(ValueError):
    """An image or mask that exists but cannot be used as a sample.

    Raised for undecodable/corrupt files, unsupported pixel types and masks
    whose size differs from their image. Datasets built with
    ``on_invalid='skip'`` drop such samples with a warning.
    """


def max_value_of(dtype: np.dtype, name: str = 'image') -> float:
    """Full-scale value of a pixel type: 255, 65535, or 1.0 for floats."""
    dtype = np.dtype(dtype)
    if dtype == np.uint8:
        return 255.0
    if dtype == np.uint16:
        return 65535.0
    if dtype.kind == 'f':
        return 1.0
    raise InvalidSampleError(
        f'{name}: unsupported pixel type {dtype}; IR frames must be 8/16-bit '
        'unsigned integers or floats in [0, 1]')


def check_intensities(img: np.ndarray, max_value: float,
                      name: str = 'image') -> None:
    """Check that a float frame holds finite intensities in
    ``[0, max_value]`` (the scale the data preprocessor divides by).

    Integer frames pass unchecked: their range is their bit depth.

    Raises:
        InvalidSampleError: NaN or infinite pixels, or pixels outside the
            range, with their count or extremes and what to do.
    """
    if img.dtype.kind != 'f':
        return
    finite = np.isfinite(img)
    if not finite.all():
        raise InvalidSampleError(
            f'{name}: {img.size - int(finite.sum())} pixels are NaN or '
            'infinite; a frame must hold finite intensities')
    low = float(img.min(initial=np.inf))
    high = float(img.max(initial=-np.inf))
    if low < 0 or high > max_value:
        raise InvalidSampleError(
            f'{name}: float pixels range from {low:g} to {high:g}, but float '
            f'frames are intensities on [0, {max_value:g}]; scale the frame '
            'to [0, 1] or set the loader\'s max_value to its full scale')


def max_image_pixels() -> int:
    """Most pixels a frame may have to be decoded:
    ``$SERANKDET_MAX_IMAGE_PIXELS`` or :data:`DEFAULT_MAX_IMAGE_PIXELS`."""
    value = os.environ.get(MAX_IMAGE_PIXELS_ENV, '')
    if not value:
        return DEFAULT_MAX_IMAGE_PIXELS
    if not value.isdigit() or int(value) < 1:
        raise ValueError(f'{MAX_IMAGE_PIXELS_ENV}={value!r} is not a '
                         'positive number of pixels')
    return int(value)


def image_header(content: bytes) -> Optional[Tuple[int, int, int]]:
    """(width, height, pages) of an encoded PNG, JPEG, BMP or TIFF file,
    from its header alone (PIL's image plugins parse headers lazily; used
    directly, as ``Image.open`` applies a pixel limit of its own); None
    for other formats and for headers that cannot be parsed (the decoder
    then reports the file)."""
    reader = next((reader for magic, reader in _HEADER_READERS.items()
                   if content.startswith(magic)), None)
    if reader is None:
        return None
    try:
        with warnings.catch_warnings():  # corrupt metadata: the decoder's
            warnings.simplefilter('ignore')
            with reader(io.BytesIO(content)) as image:
                return (image.width, image.height,
                        getattr(image, 'n_frames', 1))
    except (OSError, SyntaxError, ValueError, EOFError, struct.error):
        return None


def _check_header(content: bytes, path: str) -> None:
    """Refuse a frame above :func:`max_image_pixels` before it is decoded;
    warn that only the first page of a multi-page TIFF is read."""
    header = image_header(content)
    if header is None:
        return
    width, height, pages = header
    limit = max_image_pixels()
    if width * height > limit:
        raise InvalidSampleError(
            f'{path} is {width}x{height} = {width * height} pixels, more than '
            f'the {limit} a frame may have to be decoded; split it into '
            f'smaller frames or set {MAX_IMAGE_PIXELS_ENV} to a larger budget')
    if pages > 1:
        print_log(f'{path} holds {pages} pages: only the first is read',
                  logger='current', level=logging.WARNING)


def to_gray(img: np.ndarray, name: str = 'image') -> np.ndarray:
    """Reduce a decoded (H, W[, C]) array in OpenCV channel order to (H, W).

    C=1 is squeezed, C=2 (gray+alpha) keeps gray, C=3 (BGR) and C=4 (BGRA)
    give BT.601 luma without alpha. The dtype is kept (float64 becomes
    float32, the widest type ``cv2.cvtColor`` accepts).
    """
    if img.dtype == np.float64:
        img = img.astype(np.float32)
    if img.ndim == 2:
        return img
    if img.ndim != 3 or img.shape[2] not in (1, 2, 3, 4):
        raise InvalidSampleError(
            f'{name}: cannot convert an array of shape {img.shape} to a '
            'single-channel image')
    channels = img.shape[2]
    if channels <= 2:
        return np.ascontiguousarray(img[..., 0])
    code = cv2.COLOR_BGR2GRAY if channels == 3 else cv2.COLOR_BGRA2GRAY
    return cv2.cvtColor(img, code)


def to_rgb(img: np.ndarray, name: str = 'image') -> np.ndarray:
    """Turn a decoded (H, W[, C]) array in OpenCV channel order into
    (H, W, 3) in RGB order, as PIL ``convert('RGB')`` does.

    (H, W), C=1 and C=2 (gray+alpha) replicate gray, C=3 (BGR) is reversed,
    C=4 (BGRA) loses alpha without compositing and is reversed. The dtype
    is kept (float64 becomes float32, as in :func:`to_gray`).

    Raises:
        InvalidSampleError: another shape, named in the message.
    """
    if img.dtype == np.float64:
        img = img.astype(np.float32)
    if img.ndim == 2:
        gray = img
    elif img.ndim != 3 or img.shape[2] not in (1, 2, 3, 4):
        raise InvalidSampleError(
            f'{name}: cannot convert an array of shape {img.shape} to an '
            'RGB image')
    elif img.shape[2] <= 2:
        gray = img[..., 0]
    else:
        return np.ascontiguousarray(img[..., 2::-1])
    return np.repeat(gray[..., None], 3, axis=2)


def _png_truncated(data: bytes) -> bool:
    """Whether the chunks of a PNG end before its IEND chunk."""
    pos = 8  # after the signature
    while pos + 8 <= len(data):
        length = int.from_bytes(data[pos:pos + 4], 'big')
        chunk_type = data[pos + 4:pos + 8]
        pos += 12 + length  # length, type, data, CRC
        if chunk_type == b'IEND':
            return pos > len(data)
    return True


def _jpeg_truncated(data: bytes) -> bool:
    """Whether the segments of a JPEG end before its EOI marker.

    Segments are skipped by their length (so a thumbnail inside APP1 is not
    mistaken for the image), entropy-coded data up to the next marker.
    Anything that is not a marker where one is due is corruption, not
    truncation, and is left to the decoder.
    """
    pos, end = 2, len(data)  # after SOI
    while True:
        if pos >= end:
            return True
        if data[pos] != 0xFF:
            return False
        while pos < end and data[pos] == 0xFF:  # fill bytes
            pos += 1
        if pos >= end:
            return True
        marker = data[pos]
        pos += 1
        if marker == 0xD9:  # EOI
            return False
        if 0xD0 <= marker <= 0xD7 or marker == 0x01:  # no length field
            continue
        if pos + 2 > end:
            return True
        length = int.from_bytes(data[pos:pos + 2], 'big')
        if length < 2:
            return False
        pos += length
        if marker != 0xDA:  # not SOS: no entropy-coded data follows
            continue
        while True:  # entropy-coded data: FF is followed by 00 or RSTn
            pos = data.find(b'\xff', pos)
            if pos < 0 or pos + 1 >= end:
                return True
            following = data[pos + 1]
            if following == 0 or 0xD0 <= following <= 0xD7:
                pos += 2
            else:
                break


def _truncated(content: bytes) -> Optional[str]:
    """Why a PNG or JPEG file is incomplete, or None.

    libjpeg only warns ("Premature end of JPEG file") about a truncated JPEG
    and fills in the missing rows; ``cv2.imdecode`` of OpenCV 4.10, for
    one, returns that partial image (4.14 returns None). Walking the PNG
    chunks up to IEND and the JPEG segments up to EOI catches truncation
    whatever the OpenCV version; bytes after the end are allowed, as the
    decoders allow them.
    """
    if content.startswith(b'\x89PNG\r\n\x1a\n'):
        if _png_truncated(content):
            return 'truncated PNG (it ends before its IEND chunk)'
    elif content.startswith(b'\xff\xd8'):
        if _jpeg_truncated(content):
            return 'truncated JPEG (it ends before its end-of-image marker)'
    return None


def imread_unchanged(path: str,
                     backend_args: Optional[dict] = None) -> np.ndarray:
    """Decode a whole image file unchanged (``cv2.IMREAD_UNCHANGED``).

    The reader behind :func:`imread_gray`, :func:`imread_rgb`,
    :func:`imread_mask`, the ``check_files`` option of
    :class:`~serankdet.datasets.IRSTDDataset` and
    ``tools/misc/check_dataset.py``: every pixel is decoded, and truncated
    files are rejected even where the decoder would return a partial image.

    Raises:
        FileNotFoundError: the file does not exist.
        InvalidSampleError: the file is truncated, corrupt, not an image or
            larger than :func:`max_image_pixels`.
    """
    try:
        content = fileio.get(path, backend_args=backend_args)
    except FileNotFoundError:
        raise FileNotFoundError(f'file {path} does not exist') from None
    _check_header(content, path)
    reason = _truncated(content)
    if reason is not None:
        raise InvalidSampleError(f'cannot decode {path}: {reason}')
    try:
        img = cv2.imdecode(np.frombuffer(content, np.uint8),
                           cv2.IMREAD_UNCHANGED)
    except cv2.error as error:  # e.g. a 0-byte file (!buf.empty())
        reason = 'the file is empty' if not content else f'OpenCV: {error.err}'
        raise InvalidSampleError(f'cannot decode {path}: {reason}') from None
    if img is None:
        raise InvalidSampleError(
            f'cannot decode {path}: not a readable PNG/TIFF/JPEG/BMP file '
            '(corrupt or truncated?)')
    return img


def imread_gray(path: str,
                backend_args: Optional[dict] = None) -> np.ndarray:
    """Read an image file as (H, W) at its native bit depth.

    Returns:
        np.ndarray: uint8, uint16 or float32 array of shape (H, W).
    """
    img = to_gray(imread_unchanged(path, backend_args), path)
    max_value_of(img.dtype, path)  # reject unsupported pixel types early
    return img


def imread_rgb(path: str,
               backend_args: Optional[dict] = None) -> np.ndarray:
    """Read an image file as (H, W, 3) in RGB order at its native bit depth
    (see :func:`to_rgb`), with the checks of :func:`imread_gray`.

    Returns:
        np.ndarray: uint8, uint16 or float32 array of shape (H, W, 3).
    """
    img = to_rgb(imread_unchanged(path, backend_args), path)
    max_value_of(img.dtype, path)  # reject unsupported pixel types early
    return img


def imread_mask(path: str,
                backend_args: Optional[dict] = None) -> np.ndarray:
    """Read a mask file as a (H, W) uint8 map: any non-zero pixel -> 1.

    Colour masks count a pixel as target when any colour channel is
    non-zero; an alpha channel is ignored.
    """
    mask = imread_unchanged(path, backend_args)
    if mask.ndim == 3:
        # channels 0-2 are colour (gray+alpha decodes as BGRA), 3 is alpha
        mask = mask[..., :3].any(axis=2)
    return (mask != 0).astype(np.uint8)


def write_file(path: str, data: bytes) -> None:
    """Write ``data`` as the file ``path``, creating its folder: into
    ``.<name>.partial`` beside it, renamed to ``path`` once complete.

    Raises:
        OSError: the folder or file cannot be written (e.g. the disk is
            full), with ``path`` as its filename; the partial file is
            removed and an existing ``path`` is left as it was.
    """
    folder, name = osp.split(path)
    partial = osp.join(folder, f'.{name}.partial')
    try:
        os.makedirs(folder or '.', exist_ok=True)
        with open(partial, 'wb') as handle:
            handle.write(data)
        os.replace(partial, path)
    except OSError as error:
        if osp.lexists(partial):
            os.unlink(partial)
        raise OSError(error.errno, error.strerror, path) from error


def imwrite(path: str, image: np.ndarray) -> None:
    """Write an image in the format of the extension of ``path``
    (``cv2.imencode``; colour in BGR order) with :func:`write_file`.

    Raises:
        ValueError: OpenCV cannot encode ``image`` in that format.
        OSError: as :func:`write_file`.
    """
    ext = osp.splitext(path)[1]
    if not ext.isascii():  # OpenCV cannot take surrogate escapes
        raise ValueError(f'{path}: {ext!r} is not an image format')
    ok, encoded = cv2.imencode(ext, image)
    if not ok:
        raise ValueError(f'cannot encode a {image.dtype} array of shape '
                         f'{image.shape} as {ext!r} for {path}')
    write_file(path, encoded.tobytes())


def write_npy(path: str, array: np.ndarray) -> None:
    """Write ``array`` as a ``.npy`` file with :func:`write_file`."""
    buffer = io.BytesIO()
    np.save(buffer, array)
    write_file(path, buffer.getvalue())
