"""The toolbox's Runner: mmengine's, with trusted resume and atomic saving."""
import os
import os.path as osp

from mmengine.dist import is_main_process
from mmengine.runner import Runner

from serankdet.registry import RUNNERS
from serankdet.utils.checkpoint import trusted_checkpoint_loading


@RUNNERS.register_module()
class IRSTDRunner(Runner):
    """mmengine ``Runner`` with two changes.

    - :meth:`resume` may unpickle the whole training state (optimizer,
      message hub) of the toolbox's own runs; every other load goes through
      the weights-only allowlist (see :mod:`serankdet.utils.checkpoint`).
    - :meth:`load_checkpoint` (``load_from``, testing) is strict by default:
      a checkpoint of another model or variant fails with the list of
      mismatched keys and shapes instead of leaving a half-loaded model.
    - :meth:`save_checkpoint` writes to a temporary file and renames it, so
      a run killed while saving keeps the previous checkpoint intact.
    """

    def resume(self, filename, *args, **kwargs):
        with trusted_checkpoint_loading():
            return super().resume(filename, *args, **kwargs)

    def load_checkpoint(self, filename, map_location='cpu', strict=True,
                        **kwargs):
        return super().load_checkpoint(filename, map_location=map_location,
                                       strict=strict, **kwargs)

    def save_checkpoint(self, out_dir, filename, *args, **kwargs):
        partial = f'{filename}.partial'
        super().save_checkpoint(out_dir, partial, *args, **kwargs)
        if is_main_process():  # only the main process writes checkpoints
            os.replace(osp.join(out_dir, partial), osp.join(out_dir, filename))
