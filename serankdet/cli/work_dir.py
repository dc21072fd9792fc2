"""Work folders: never write over an earlier run, resume the newest."""
import glob
import os.path as osp
import time

from mmengine.config import Config
from mmengine.logging import print_log

from serankdet.engine import find_resume_checkpoint


def _holds_checkpoints(folder: str) -> bool:
    return (osp.isfile(osp.join(folder, 'last_checkpoint'))
            or bool(glob.glob(osp.join(folder, '*.pth'))))


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
    print_log(f'{cfg.work_dir} already holds checkpoints of an earlier run; '
              f'this run writes to {new_dir} (use --resume to continue the '
              'earlier run)', logger='current')
    cfg.work_dir = new_dir


def resume_latest(cfg: Config) -> None:
    """Set ``cfg`` to resume from :func:`find_resume_checkpoint`, in the
    folder of that checkpoint; start a new run only when the work dir holds
    no checkpoint file at all (see :class:`ResumeError`)."""
    path = find_resume_checkpoint(cfg.work_dir)
    if path is None:
        print_log(f'no checkpoint to resume from in {cfg.work_dir}: '
                  'starting a new run', logger='current')
        cfg.resume = False
        return
    cfg.resume, cfg.load_from = True, path
    cfg.work_dir = osp.dirname(path)
    print_log(f'resuming from {path}', logger='current')
