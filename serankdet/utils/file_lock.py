"""One process at a time: an exclusive ``fcntl.flock`` on a lock file."""
import contextlib
import fcntl
import os
import os.path as osp


class LockHeldError(RuntimeError):
    """Another process holds the lock file ``path``; ``holder`` is what it
    wrote there (``pid N``)."""

    def __init__(self, path: str, holder: str):
        super().__init__(f'{path} is held by {holder}')
        self.path, self.holder = path, holder


@contextlib.contextmanager
def exclusive_lock(path: str):
    """Hold an exclusive ``fcntl.flock`` on the file ``path`` (created, and
    given this process's pid) for the block; the file is removed when the
    block ends.

    The system releases the lock of a process that dies, so a lock file
    left behind by a killed process never blocks. A lock taken on a file
    its last holder removed meanwhile is taken again on the new file.

    Raises:
        LockHeldError: another process holds the lock.
    """
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 200).decode(errors='replace').strip()
            os.close(fd)
            raise LockHeldError(path, holder or 'another process') from None
        try:
            if osp.samestat(os.fstat(fd), os.stat(path)):
                break
        except FileNotFoundError:
            pass
        os.close(fd)
    try:
        os.ftruncate(fd, 0)
        os.write(fd, f'pid {os.getpid()}\n'.encode())
        yield
    finally:
        os.remove(path)
        os.close(fd)
