"""mmengine's CheckpointHook, reordered so that a kill never loses the
last complete checkpoint."""
import contextlib
import glob
import os
import os.path as osp
import re

from mmengine.dist import is_main_process
from mmengine.hooks import CheckpointHook

from serankdet.registry import HOOKS

#: Suffix of a checkpoint being written (see ``IRSTDRunner.save_checkpoint``).
PARTIAL_SUFFIX = '.partial'


def write_text_atomic(path: str, text: str) -> None:
    """Replace ``path`` by a file holding ``text``: readers see the old or
    the new content, never a truncated one."""
    tmp = path + PARTIAL_SUFFIX
    with open(tmp, 'w') as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


@HOOKS.register_module()
class AtomicCheckpointHook(CheckpointHook):
    """``CheckpointHook`` whose saves survive a kill at any moment.

    mmengine's hook deletes the checkpoint that ``max_keep_ckpts`` (or a new
    best score) pushes out *before* writing the new one, and rewrites
    ``last_checkpoint`` in place: a run killed in between keeps no
    checkpoint, or a pointer to a deleted or half-written file. Here each
    save runs in this order:

    1. the new checkpoint is written to ``<name>.partial``, flushed to disk
       and renamed into place (``IRSTDRunner.save_checkpoint``);
    2. ``last_checkpoint`` is replaced atomically to name it;
    3. only then are the checkpoints it supersedes deleted, with those an
       earlier killed save left behind (partial files, older rotated and
       best checkpoints).

    At every instant the folder holds at least one complete checkpoint and
    ``last_checkpoint`` names a complete one. Arguments are mmengine's.
    :class:`~serankdet.engine.IRSTDRunner` uses this hook wherever a config
    names mmengine's ``CheckpointHook``.
    """

    @contextlib.contextmanager
    def _deferred_removal(self):
        """Collect the files mmengine's code removes; delete them after the
        outermost block completes (never if it raises). Re-entrant: a best
        checkpoint save may run a regular save inside it."""
        backend = self.file_backend
        if 'remove' in vars(backend):  # already deferring
            yield
            return
        pending = []
        backend.remove = pending.append  # instance attribute shadows method
        try:
            yield
        finally:
            del backend.remove
        for path in pending:
            if backend.isfile(path):
                backend.remove(path)
        self._remove_stale_partials()

    def _remove_stale_partials(self) -> None:
        if is_main_process():
            pattern = osp.join(self.out_dir, '*' + PARTIAL_SUFFIX)
            for path in glob.glob(pattern):
                os.remove(path)

    def _save_checkpoint_with_step(self, runner, step, meta):
        """mmengine's rotation and save, with the old checkpoint removed
        last and ``last_checkpoint`` replaced atomically."""
        with self._deferred_removal():
            if self.max_keep_ckpts > 0 and not (
                    self.keep_ckpt_ids and self.keep_ckpt_ids[-1] == step):
                if len(self.keep_ckpt_ids) == self.max_keep_ckpts:
                    dropped = self.keep_ckpt_ids.popleft()
                    if is_main_process():
                        self.file_backend.remove(self.file_backend.join_path(
                            self.out_dir, self.filename_tmpl.format(dropped)))
                self.keep_ckpt_ids.append(step)
                # saved in the checkpoint: a resumed run rotates the same
                runner.message_hub.update_info('keep_ckpt_ids',
                                               list(self.keep_ckpt_ids))
            filename = self.filename_tmpl.format(step)
            self.last_ckpt = self.file_backend.join_path(self.out_dir,
                                                         filename)
            runner.message_hub.update_info('last_ckpt', self.last_ckpt)
            runner.save_checkpoint(
                self.out_dir, filename, self.file_client_args,
                save_optimizer=self.save_optimizer,
                save_param_scheduler=self.save_param_scheduler, meta=meta,
                by_epoch=self.by_epoch, backend_args=self.backend_args,
                **self.args)
            if is_main_process():
                write_text_atomic(
                    osp.join(runner.work_dir, 'last_checkpoint'),
                    self.last_ckpt)
                self._remove_rotated_out()

    def _remove_rotated_out(self) -> None:
        """Remove the checkpoints older than the oldest one kept: those a
        killed run saved but did not get to remove (the resumed run only
        knows the ones it keeps)."""
        if self.max_keep_ckpts <= 0 or not self.keep_ckpt_ids:
            return
        prefix, _, suffix = self.filename_tmpl.partition('{}')
        pattern = re.compile(re.escape(prefix) + r'(\d+)' + re.escape(suffix))
        for name in os.listdir(self.out_dir):
            match = pattern.fullmatch(name)
            if match and int(match.group(1)) < min(self.keep_ckpt_ids):
                self.file_backend.remove(osp.join(self.out_dir, name))

    def _save_best_checkpoint(self, runner, metrics) -> None:
        """Save a new best checkpoint before removing the previous one.

        A run killed between saving a new best checkpoint and recording it
        resumes with the previous best in mind; the best checkpoint it then
        never knew of is removed with the next replaced one.
        """
        if not self.save_best:  # no best kept: validation alone
            return
        with self._deferred_removal():
            super()._save_best_checkpoint(runner, metrics)
            by_key = getattr(self, 'best_ckpt_path_dict', None)
            current = set(by_key.values()) if by_key else {
                self.best_ckpt_path}
            current.discard(None)
            # nothing is removed before a best is known (a first
            # validation without the metric keeps what is there)
            if is_main_process() and current:
                for path in glob.glob(osp.join(self.out_dir, 'best_*.pth')):
                    if path not in current:
                        self.file_backend.remove(path)
