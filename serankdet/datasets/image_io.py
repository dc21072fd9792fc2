"""Reading IR frames and masks at their native bit depth.

IRSTD datasets mix formats: SIRST alone holds 8-bit gray, RGB, RGBA and
palette PNGs; sensors deliver 16-bit PNG/TIFF. Every image is decoded with
``cv2.IMREAD_UNCHANGED`` (libpng/libtiff expand palettes through their
palette and low bit depths to 8 bit) and reduced to one channel:

* gray: kept as is (uint8, uint16 or float);
* BGR: ITU-R BT.601 luma ``0.299 R + 0.587 G + 0.114 B`` (``cv2.cvtColor``,
  the same conversion DATransNet uses; it differs from PIL ``convert('L')``
  by at most one gray level);
* BGRA / gray+alpha: the alpha channel is dropped, then as above.
"""
from typing import Optional

import cv2
import mmengine.fileio as fileio
import numpy as np

#: File extensions (lower case) indexed as images or masks.
IMG_EXTENSIONS = ('.png', '.bmp', '.jpg', '.jpeg', '.tif', '.tiff')


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

    The reader behind :func:`imread_gray`, :func:`imread_mask`, the
    ``check_files`` option of :class:`~serankdet.datasets.IRSTDDataset` and
    ``tools/misc/check_dataset.py``: every pixel is decoded, and truncated
    files are rejected even where the decoder would return a partial image.

    Raises:
        FileNotFoundError: the file does not exist.
        InvalidSampleError: the file is truncated, corrupt or not an image.
    """
    try:
        content = fileio.get(path, backend_args=backend_args)
    except FileNotFoundError:
        raise FileNotFoundError(f'file {path} does not exist') from None
    reason = _truncated(content)
    if reason is not None:
        raise InvalidSampleError(f'cannot decode {path}: {reason}')
    img = cv2.imdecode(np.frombuffer(content, np.uint8), cv2.IMREAD_UNCHANGED)
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
