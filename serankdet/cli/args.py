"""Arguments every tool takes.

Nothing heavy is imported here: a tool answers ``--help`` (and argument
errors) before it imports torch, mmengine or the toolbox.
"""
import argparse
import os
import sys


class CfgOptionsAction(argparse.Action):
    """mmengine's ``DictAction`` (``key=value`` pairs into a dict), imported
    only when the option is given.

    Its grammar is ``KEY=VALUE``, ``KEY=V1,V2`` and nested ``[...]`` /
    ``(...)``; what it cannot take is refused here with one message
    (``ValueError``, printed by :func:`~serankdet.cli.errors.run_cli`)
    instead of a ``RecursionError`` or a silent string: a pair without
    ``=``, unbalanced brackets, and ``dict(...)`` / ``{...}`` values, which
    it does not parse (``KEY.SUBKEY=VALUE`` sets one entry of a dict,
    ``KEY.INDEX.SUBKEY=VALUE`` one of a list).
    """

    def __call__(self, parser, namespace, values, option_string=None):
        from mmengine.config import DictAction
        for pair in values:
            _check_cfg_option(pair)
        DictAction(self.option_strings, self.dest)(parser, namespace, values,
                                                   option_string)


def _check_cfg_option(pair: str) -> None:
    """Raise ``ValueError`` for a ``--cfg-options`` pair that mmengine's
    ``DictAction`` would fail on or misread (see :class:`CfgOptionsAction`).
    """
    key, equals, value = pair.partition('=')
    if not equals or not key:
        raise ValueError(f'--cfg-options {pair}: expected KEY=VALUE, e.g. '
                         'train_dataloader.batch_size=2')
    for opening, closing in ('()', '[]'):
        if value.count(opening) != value.count(closing):
            raise ValueError(f'--cfg-options {pair}: unbalanced '
                             f'"{opening}" and "{closing}"')
    if 'dict(' in value or '{' in value:
        raise ValueError(
            f'--cfg-options {pair}: dict values are not supported; set '
            f'each entry on its own, e.g. {key}.KEY=VALUE (a list item: '
            f'{key}.0.KEY=VALUE)')


def add_common_args(parser):
    """Arguments every entry point takes: work dir, overrides, verbosity,
    launcher."""
    parser.add_argument('--work-dir', help='folder for logs and results')
    parser.add_argument(
        '--cfg-options', nargs='+', action=CfgOptionsAction,
        help='override config keys, e.g. train_dataloader.batch_size=2 '
        'model.backbone.base_channels=8')
    parser.add_argument(
        '--verbose', action='store_true',
        help='also print the environment report, the full config and the '
        'hook table (always written to the log file of the run)')
    add_launcher_args(parser)


def add_backend_args(parser: argparse.ArgumentParser) -> None:
    """Add ``--backend`` and ``--onnx`` (what runs the network; see
    :mod:`serankdet.apis.backends`)."""
    parser.add_argument(
        '--backend', choices=('pytorch', 'onnxruntime'), default='pytorch',
        help="what runs the network: 'pytorch' (default) or 'onnxruntime' "
        '(the --onnx graph on the CPU; same preprocessing, windows and '
        'decision rule; no checkpoint)')
    parser.add_argument('--onnx', metavar='FILE',
                        help='ONNX graph of tools/deployment/export_onnx.py '
                        'or quantize_onnx.py, for --backend onnxruntime')


def add_launcher_args(parser: argparse.ArgumentParser) -> None:
    """Add ``--launcher`` and the local-rank flags of every PyTorch launcher.

    ``torch.distributed.launch`` passes ``--local-rank=N`` (torch >= 2.0;
    ``--local_rank=N`` before), torchrun passes neither and sets
    ``LOCAL_RANK``; the value is exported as ``LOCAL_RANK`` by
    :func:`export_local_rank` unless the launcher already set it.
    """
    parser.add_argument(
        '--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none', help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0,
                        help=argparse.SUPPRESS)


def is_rank_zero() -> bool:
    """Whether this process speaks for the run (rank 0, or not launched
    distributed); readable before the process group exists (``RANK`` of
    the PyTorch launchers, ``SLURM_PROCID`` of ``srun``)."""
    return os.environ.get('RANK', os.environ.get('SLURM_PROCID', '0')) == '0'


def prepare_distributed_process() -> None:
    """Settings of a process started by a distributed launcher, made before
    anything reads them.

    * Thread counts set deliberately: the cores divided among the
      processes of this node (``OMP_NUM_THREADS`` / ``MKL_NUM_THREADS``,
      unless the user set them), instead of mmengine's and torchrun's
      default of 1 with a warning per process.
    * Rank 0 speaks for the run: Python warnings are not shown by the other
      ranks (mmengine's logger already limits them to errors).
    """
    processes = int(os.environ.get('LOCAL_WORLD_SIZE', '1'))
    threads = str(max(1, (os.cpu_count() or 1) // max(processes, 1)))
    for name in ('OMP_NUM_THREADS', 'MKL_NUM_THREADS'):
        os.environ.setdefault(name, threads)
    import torch
    torch.set_num_threads(int(os.environ['OMP_NUM_THREADS']))
    if not is_rank_zero():
        import warnings
        warnings.simplefilter('ignore')


def leave_process_group(wait_for_peers: bool) -> None:
    """End this process's part in the distributed run, if it has one.

    The process group is destroyed before the interpreter exits: left to
    interpreter shutdown, gloo's threads can be torn down while a peer
    still talks to them, and the process aborts ("terminate called without
    an active exception", exit code -6) after a run that succeeded. After a
    success the ranks first wait for each other (``wait_for_peers``), so
    none closes its connections while another is still finishing; after an
    error they do not, since a failed peer never arrives.
    """
    # a process that never imported torch has no group (and --help stays
    # quick)
    dist = sys.modules.get('torch.distributed')
    if dist is None or not (dist.is_available() and dist.is_initialized()):
        return
    if wait_for_peers:
        dist.barrier()
    dist.destroy_process_group()


def export_local_rank(args: argparse.Namespace) -> None:
    """Export the parsed local rank unless the launcher set ``LOCAL_RANK``."""
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
