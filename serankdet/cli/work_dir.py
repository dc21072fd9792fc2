"""Work folders: never write over an earlier run, resume the newest, leave
nothing behind from a run that failed before it started."""
import contextlib
import glob
import os
import os.path as osp
import shutil
import time

from mmengine.config import Config
from mmengine.logging import print_log

from serankdet.engine import find_resume_checkpoint
from serankdet.utils.file_lock import LockHeldError, exclusive_lock
from .args import is_rank_zero


def _holds_checkpoints(folder: str) -> bool:
    return (osp.isfile(osp.join(folder, 'last_checkpoint'))
            or bool(glob.glob(osp.join(folder, '*.pth'))))


#: File in a work dir that a training run holds locked while it runs.
LOCK_FILE = '.serankdet.lock'


class WorkDirInUseError(RuntimeError):
    """Another run holds the lock of the work dir."""


@contextlib.contextmanager
def lock_work_dir(work_dir: str):
    """Hold the work dir for one run: an exclusive lock on
    :data:`LOCK_FILE` in it (:func:`~serankdet.utils.file_lock.
    exclusive_lock`: released and removed when the run ends; the lock of a
    killed run is released by the system, so it never blocks). Only rank 0
    locks. A work dir this call creates is removed again when the run
    leaves it empty.

    Raises:
        WorkDirInUseError: another run holds the work dir; nothing has
            been written.
    """
    if not is_rank_zero():
        yield
        return
    created = not osp.isdir(work_dir)
    os.makedirs(work_dir, exist_ok=True)
    try:
        with exclusive_lock(osp.join(work_dir, LOCK_FILE)):
            yield
    except LockHeldError as error:
        raise WorkDirInUseError(
            f'work dir {work_dir} is in use by another run ({error.holder}); '
            'wait for it to end or give another --work-dir') from None
    finally:
        if created and not os.listdir(work_dir):
            os.rmdir(work_dir)


def use_fresh_work_dir(cfg: Config) -> None:
    """Keep earlier runs: when ``cfg.work_dir`` already holds checkpoints,
    point it to a new ``run_<timestamp>`` folder inside it.

    With a distributed launcher the process group is started here so every
    rank uses the folder chosen by rank 0 (the Runner then reuses it).
    """
    if not _holds_checkpoints(cfg.work_dir):
        return
    name = time.strftime('run_%Y%m%d_%H%M%S')
    suffix = 1
    while osp.exists(osp.join(cfg.work_dir, name)):
        name = f'{name.split("-")[0]}-{suffix}'
        suffix += 1
    if cfg.launcher != 'none':
        from mmengine.dist import broadcast_object_list, init_dist
        init_dist(cfg.launcher, **cfg.get('env_cfg', {}).get('dist_cfg', {}))
        box = [name]
        broadcast_object_list(box)
        name = box[0]
    new_dir = osp.join(cfg.work_dir, name)
    if is_rank_zero():
        print_log(
            f'{cfg.work_dir} already holds checkpoints of an earlier run; '
            f'this run writes to {new_dir} (use --resume to continue the '
            'earlier run)', logger='current')
    cfg.work_dir = new_dir


def check_output_file(path: str, option: str, force: bool = False) -> None:
    """Fail before a run starts when its result could not be written to
    ``path`` (given with ``option``, e.g. ``--out``) or would replace a
    file without ``force``.

    Raises:
        FileExistsError: ``path`` is a folder, an existing file and
            ``force`` is not set, or below a file.
        PermissionError: the folder ``path`` would be written in (or its
            nearest existing parent) is not writable.
    """
    if osp.isdir(path):
        raise FileExistsError(f'{option} {path} is a folder; give a file '
                              'name')
    if osp.lexists(path) and not force:
        raise FileExistsError(f'{option} {path} already exists; give '
                              'another name or add --force to replace it')
    folder = osp.dirname(osp.abspath(path))
    while not osp.lexists(folder):
        folder = osp.dirname(folder)
    if not osp.isdir(folder):
        raise FileExistsError(f'{option} {path}: {folder} is a file, not a '
                              'folder')
    if not os.access(folder, os.W_OK):
        raise PermissionError(f'{option} {path}: cannot write in {folder}; '
                              'give a path in a writable folder')


def resume_latest(cfg: Config) -> None:
    """Set ``cfg`` to resume from :func:`find_resume_checkpoint`, in the
    folder of that checkpoint; start a new run only when the work dir holds
    no checkpoint file at all (see :class:`ResumeError`)."""
    path = find_resume_checkpoint(cfg.work_dir)
    if path is None:
        if is_rank_zero():
            print_log(f'no checkpoint to resume from in {cfg.work_dir}: '
                      'starting a new run', logger='current')
        cfg.resume = False
        return
    cfg.resume, cfg.load_from = True, path
    cfg.work_dir = osp.dirname(path)
    if is_rank_zero():
        print_log(f'resuming from {path}', logger='current')


def _started(folder: str) -> bool:
    """Whether a run folder holds results: a checkpoint, or logged training
    or evaluation scalars."""
    if not osp.isdir(folder):
        return folder.endswith('.pth') or osp.basename(folder) in (
            'last_checkpoint', 'test_metrics.json')
    return any(name.endswith('.pth') or name in ('last_checkpoint',
                                                 'scalars.json')
               for _, _, names in os.walk(folder) for name in names)


@contextlib.contextmanager
def tidy_if_failed_early(work_dir: str):
    """Remove what a run created in ``work_dir`` when it fails before any
    result exists (a config, data or checkpoint error found while the runner
    starts), so a failed start leaves no empty ``<timestamp>/`` folder.

    Entries that existed before are never touched; a run that wrote a
    checkpoint or logged scalars keeps everything (its log explains the
    failure). Only rank 0 removes.
    """
    existed = osp.isdir(work_dir)
    before = set(os.listdir(work_dir)) if existed else set()
    try:
        yield
    except BaseException:
        if os.environ.get('RANK', '0') == '0' and osp.isdir(work_dir):
            created = [osp.join(work_dir, name)
                       for name in set(os.listdir(work_dir)) - before]
            if not any(_started(path) for path in created):
                for path in created:
                    if osp.isdir(path):
                        shutil.rmtree(path, ignore_errors=True)
                    else:
                        os.remove(path)
                if not existed and not os.listdir(work_dir):
                    os.rmdir(work_dir)
        raise
