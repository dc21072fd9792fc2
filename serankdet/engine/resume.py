"""Which checkpoint ``--resume`` continues from."""
import glob
import os.path as osp
from typing import List, Optional

from .hooks.checkpoint_hook import PARTIAL_SUFFIX

#: Names of the checkpoints a run saves as it goes (best ones are not
#: resumed: they may be older than the last save).
RESUMABLE_PATTERNS = ('iter_*.pth', 'epoch_*.pth')


class ResumeError(ValueError):
    """A work dir holds checkpoint files but none that can be resumed."""


def _run_folders(work_dir: str) -> List[str]:
    return [work_dir] + sorted(glob.glob(osp.join(work_dir, 'run_*')))


def _newest_checkpoint_in(folder: str) -> Optional[str]:
    """What ``last_checkpoint`` names, else the newest saved checkpoint."""
    pointer = osp.join(folder, 'last_checkpoint')
    if osp.isfile(pointer):
        with open(pointer) as handle:
            path = handle.read().strip()
        for candidate in (path, osp.join(folder, osp.basename(path))):
            if path and osp.isfile(candidate):
                return candidate
    # no pointer, or one naming a file that was moved or deleted
    saved = [p for pattern in RESUMABLE_PATTERNS
             for p in glob.glob(osp.join(folder, pattern))]
    return max(saved, key=osp.getmtime) if saved else None


def _checkpoint_leftovers(folder: str) -> List[str]:
    """Files of ``folder`` that show a run saved (or tried to save) there."""
    found = [p for pattern in ('last_checkpoint', '*.pth',
                               '*.pth' + PARTIAL_SUFFIX)
             for p in glob.glob(osp.join(folder, pattern))]
    return sorted(found)


def find_resume_checkpoint(work_dir: str) -> Optional[str]:
    """The newest complete checkpoint of ``work_dir`` and its ``run_*``
    folders (the folders ``tools/train.py`` gives later runs).

    Returns:
        str or None: the checkpoint path; None when the folders hold no
        checkpoint file at all (a new run may start).

    Raises:
        ResumeError: the folders hold checkpoint files (best checkpoints,
            partial writes, a ``last_checkpoint`` naming a missing file) but
            no ``iter_*.pth`` / ``epoch_*.pth`` to resume from: starting
            afresh there would silently drop the earlier run.
    """
    folders = _run_folders(work_dir)
    found = [p for p in map(_newest_checkpoint_in, folders) if p]
    if found:
        return max(found, key=osp.getmtime)
    leftovers = [path for folder in folders
                 for path in _checkpoint_leftovers(folder)]
    if leftovers:
        listed = ', '.join(leftovers[:5]) + (
            f' and {len(leftovers) - 5} more' if len(leftovers) > 5 else '')
        raise ResumeError(
            f'nothing to resume in {work_dir}: it holds {listed} but no '
            'complete iter_*.pth or epoch_*.pth checkpoint. Resume from a '
            'file with --resume PATH, or start a new run with another '
            '--work-dir (nothing was deleted).')
    return None
