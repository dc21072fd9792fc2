"""Content hashes of files: what the model zoo, the calibration sidecars and
the dataset converters compare to tell a file from a changed one."""
import hashlib


def file_sha256(path: str) -> str:
    """The SHA-256 of the file at ``path`` (hex), read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, 'rb') as handle:
        for block in iter(lambda: handle.read(1 << 20), b''):
            digest.update(block)
    return digest.hexdigest()
