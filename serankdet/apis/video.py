"""Videos and frame sequences: reading them frame by frame, writing an
annotated video, and the threads that let decoding, inference and writing
overlap.

A :class:`VideoReader` (any file OpenCV's FFmpeg backend decodes) or a
:class:`FrameSequence` (numbered image files in natural order) yields
:class:`VideoFrame` s, which :class:`~serankdet.apis.IRSTDInferencer`
takes as it takes images: a decoded frame goes through the same test
pipeline as an array, a file of a sequence as a path.
:class:`Prefetcher` runs an iterator (reading and preprocessing) in a
thread ahead of its consumer (the model) and measures how long the consumer
waits for it; :class:`BackgroundWorker` runs a function (writing results)
in a thread behind its producer.
"""
import os
import os.path as osp
import queue
import re
import threading
import time
from dataclasses import dataclass
from typing import (Any, Callable, Iterable, Iterator, List, Optional,
                    Sequence, Tuple, Union)

import cv2
import numpy as np

from serankdet.datasets.image_io import IMG_EXTENSIONS

#: Extensions (lower case) of the files read as videos.
VIDEO_EXTENSIONS = ('.avi', '.mp4', '.m4v', '.mkv', '.mov', '.mpg',
                    '.mpeg', '.ts', '.webm', '.wmv', '.flv', '.mj2')
#: FourCC of the annotated video by the extension of its file name.
VIDEO_CODECS = {'.avi': 'MJPG', '.mkv': 'MJPG', '.mp4': 'mp4v',
                '.m4v': 'mp4v', '.mov': 'mp4v'}
#: Decimals of a timestamp in seconds (microseconds).
TIME_DECIMALS = 6


def _open_capture(path: str) -> cv2.VideoCapture:
    """``path`` opened by OpenCV's FFmpeg backend (never as an image)."""
    return cv2.VideoCapture(path, cv2.CAP_FFMPEG)


def is_video(path: str) -> bool:
    """Whether ``path`` is a file to read as a video: one with an extension
    of :data:`VIDEO_EXTENSIONS`, or one that is not named like an image and
    that OpenCV's FFmpeg backend opens."""
    if not osp.isfile(path):
        return False
    ext = osp.splitext(path)[1].lower()
    if ext in VIDEO_EXTENSIONS:
        return True
    if ext in IMG_EXTENSIONS:
        return False
    capture = _open_capture(path)
    try:
        return capture.isOpened()
    finally:
        capture.release()


def natural_key(path: str) -> Tuple[Union[str, int], ...]:
    """Sort key ordering the numbers in ``path`` by value
    (``frame_2`` before ``frame_10``)."""
    return tuple(int(part) if index % 2 else part
                 for index, part in enumerate(re.split(r'(\d+)', path)))


@dataclass(frozen=True)
class VideoFrame:
    """One frame of a video or a sequence.

    Attributes:
        index (int): position in the video or sequence, from 0.
        time (float): timestamp in seconds.
        image (str | np.ndarray): the file of a sequence's frame, the
            decoded (H, W, 3) BGR uint8 array of a video's.
    """
    index: int
    time: float
    image: Union[str, np.ndarray]

    def record(self) -> dict:
        """What identifies the frame in the target list: ``frame``,
        ``time`` and, for a file, ``file``."""
        ids = dict(frame=self.index, time=self.time)
        if isinstance(self.image, str):
            ids['file'] = self.image
        return ids

    def describe(self) -> str:
        """``frame N`` or, for a file, its path."""
        if isinstance(self.image, str):
            return self.image
        return f'frame {self.index}'


class VideoReader:
    """The frames of a video file, decoded by OpenCV (FFmpeg), with their
    timestamps (``CAP_PROP_POS_MSEC``).

    Opened and its first frame decoded on construction, so that a file
    that is no video fails at once. It is iterated once: the file is
    released at the end (or when the iteration is closed).

    Args:
        path (str): the video file.

    Attributes:
        fps (float | None): frame rate the file states.
        num_frames (int | None): frame count the file states (an estimate
            for some containers), None if unknown.

    Raises:
        ValueError: the file cannot be opened as a video or no frame of it
            can be decoded.
    """

    def __init__(self, path: str):
        self.path = path
        self._capture = _open_capture(path)
        opened = self._capture.isOpened()
        ok, self._first = self._capture.read() if opened else (False, None)
        if not ok:
            self._capture.release()
            state = ('no frame of it could be decoded' if opened else
                     'it cannot be opened')
            raise ValueError(
                f'{path} is not a readable video ({state}: a corrupt or '
                'truncated file, or a codec this OpenCV build lacks); check '
                'the file, e.g. convert it with `ffmpeg -i FILE -c:v mjpeg '
                'out.avi`, or give a folder of frames with --sequence')
        fps = self._capture.get(cv2.CAP_PROP_FPS)
        count = int(self._capture.get(cv2.CAP_PROP_FRAME_COUNT))
        self.fps = fps if fps > 0 else None
        self.num_frames = count if count > 0 else None

    def _time(self) -> float:
        """Timestamp (s) of the frame just decoded."""
        return round(self._capture.get(cv2.CAP_PROP_POS_MSEC) / 1000,
                     TIME_DECIMALS)

    def __iter__(self) -> Iterator[VideoFrame]:
        try:
            image, index = self._first, 0
            while image is not None:
                yield VideoFrame(index, self._time(), image)
                ok, image = self._capture.read()
                image, index = (image if ok else None), index + 1
        finally:
            self._capture.release()


class FrameSequence:
    """Image files taken as the frames of a video: in natural order of
    their paths (:func:`natural_key`), at ``fps`` frames per second.

    Args:
        paths (Sequence[str]): the frame files.
        fps (float): frame rate; frame ``i`` is at ``i / fps`` seconds.
    """

    def __init__(self, paths: Sequence[str], fps: float):
        self.paths: List[str] = sorted(paths, key=natural_key)
        self.fps = fps
        self.num_frames = len(self.paths)

    def __iter__(self) -> Iterator[VideoFrame]:
        for index, path in enumerate(self.paths):
            yield VideoFrame(index, round(index / self.fps, TIME_DECIMALS),
                             path)


class VideoFile:
    """An annotated video written frame by frame with ``cv2.VideoWriter``
    (codec by extension, :data:`VIDEO_CODECS`), into ``.<stem>.partial<ext>``
    beside ``path`` and renamed to ``path`` by :meth:`close`. It takes the
    size of its first frame; a frame of another size is resized to it.

    Args:
        path (str): the video file to write.
        fps (float): its frame rate.

    Raises:
        ValueError: an extension without a codec.
    """

    def __init__(self, path: str, fps: float):
        ext = osp.splitext(path)[1].lower()
        if ext not in VIDEO_CODECS:
            raise ValueError(
                f'cannot write a video named {path}: give a name ending in '
                f'{", ".join(VIDEO_CODECS)}')
        folder, name = osp.split(path)
        self.path, self.fps = path, fps
        self.partial = osp.join(folder, f'.{osp.splitext(name)[0]}.partial'
                                f'{ext}')
        self.fourcc = cv2.VideoWriter_fourcc(*VIDEO_CODECS[ext])
        self._writer: Optional[cv2.VideoWriter] = None
        self._size: Optional[Tuple[int, int]] = None

    def write(self, image: np.ndarray) -> None:
        """Append an (H, W, 3) BGR uint8 frame.

        Raises:
            OSError: the file cannot be opened for writing.
        """
        size = (image.shape[1], image.shape[0])
        if self._writer is None:
            self._writer = cv2.VideoWriter(self.partial, self.fourcc,
                                           self.fps, size)
            self._size = size
            if not self._writer.isOpened():
                raise OSError(f'OpenCV cannot write the video {self.path}')
        if size != self._size:
            image = cv2.resize(image, self._size,
                               interpolation=cv2.INTER_NEAREST)
        self._writer.write(np.ascontiguousarray(image))

    def close(self) -> None:
        """Finish the file and give it its name (nothing was written: no
        file)."""
        if self._writer is not None:
            self._writer.release()
            os.replace(self.partial, self.path)
            self._writer = None


_END = object()


def _put_until(target: queue.Queue, item: Any,
               stopped: Callable[[], bool]) -> bool:
    """Put ``item`` into ``target`` once there is room, unless ``stopped()``
    becomes true first; whether it was put."""
    while not stopped():
        try:
            target.put(item, timeout=0.05)
            return True
        except queue.Full:
            continue
    return False


class Prefetcher:
    """Iterate ``iterable`` in a background thread, at most ``size`` items
    ahead of the consumer.

    Its exceptions are raised to the consumer in order. :attr:`waited` is
    the time the consumer spent waiting for items (the producer being
    slower). :meth:`close` stops the thread (closing the iterator) where
    the consumer stops early.

    Args:
        iterable (Iterable): what to iterate, e.g. a generator reading and
            preprocessing frames.
        size (int): the queue's bound, >= 1.
    """

    def __init__(self, iterable: Iterable, size: int):
        self.waited = 0.0
        self._queue: queue.Queue = queue.Queue(maxsize=size)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._fill,
                                        args=(iter(iterable), ),
                                        name='prefetch', daemon=True)
        self._thread.start()

    def _fill(self, iterator: Iterator) -> None:
        try:
            for item in iterator:
                if not _put_until(self._queue, (item, None),
                                  self._stop.is_set):
                    break
            else:
                _put_until(self._queue, (_END, None), self._stop.is_set)
        except Exception as error:  # raised to the consumer
            _put_until(self._queue, (_END, error), self._stop.is_set)
        finally:
            close = getattr(iterator, 'close', None)
            if close is not None:
                close()

    def __iter__(self) -> 'Prefetcher':
        return self

    def __next__(self):
        start = time.perf_counter()
        item, error = self._queue.get()
        self.waited += time.perf_counter() - start
        if item is _END:
            self._thread.join()
            if error is not None:
                raise error
            raise StopIteration
        return item

    def close(self) -> None:
        """Stop the thread and drop the items it read ahead."""
        self._stop.set()
        self._thread.join()


class BackgroundWorker:
    """Call ``function(item)`` in a background thread on each item
    :meth:`put`, in order, at most ``size`` items behind.

    The first exception of ``function`` stops the worker (items after it
    are dropped) and is raised by the next :meth:`put` or by :meth:`close`.

    Args:
        function (Callable): what to do with an item, e.g. write a result.
        size (int): the queue's bound, >= 1.
    """

    def __init__(self, function: Callable[[Any], None], size: int):
        self.function = function
        self.error: Optional[BaseException] = None
        self._raised = False
        self._queue: queue.Queue = queue.Queue(maxsize=size)
        self._thread = threading.Thread(target=self._drain, name='writer',
                                        daemon=True)
        self._thread.start()

    def _drain(self) -> None:
        while True:
            item = self._queue.get()
            if item is _END:
                return
            try:
                self.function(item)
            except Exception as error:  # raised by put / close
                self.error = error
                return

    def _raise(self) -> None:
        if self.error is not None and not self._raised:
            self._raised = True
            raise self.error

    def put(self, item: Any) -> None:
        """Queue ``item`` (waiting while the queue is full).

        Raises:
            Exception: the error ``function`` stopped with.
        """
        _put_until(self._queue, item, lambda: self.error is not None)
        self._raise()

    def close(self) -> None:
        """Process the items queued, then stop the thread.

        Raises:
            Exception: the error ``function`` stopped with, unless
            :meth:`put` raised it already.
        """
        _put_until(self._queue, _END, lambda: self.error is not None)
        self._thread.join()
        self._raise()
