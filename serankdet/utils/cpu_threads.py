"""How the CPU threads of a run wait, chosen so that a busy machine slows
a run by the share of the cores it loses, not by 10x.

OpenMP (PyTorch's intra-op pool and oneDNN's) and ONNX Runtime's pool let a
thread that waits at a barrier spin for a while before it sleeps. On an idle
machine that saves a few microseconds per operator; beside other busy
processes the spinning thread burns the time slice its peer needs, and every
barrier waits for a descheduled peer. Measured on 2 cores beside one process
that keeps 2 threads busy, a training step of the demo U-Net took 11x its
idle time with libgomp's default spinning and 1.7x with passive waiting
(``benchmarks/busy_machine.py``). The thread count stays the cores this
process may use: with passive waiting one thread per core is the fastest
choice idle and beside 1 or 3 competing processes alike.

What the user sets wins: ``OMP_WAIT_POLICY`` or ``GOMP_SPINCOUNT`` leave the
wait policy alone, ``OMP_NUM_THREADS`` sets the thread count.
"""
import os
from typing import MutableMapping, Optional

#: environment variables through which a user chooses how OpenMP waits
WAIT_VARIABLES = ('OMP_WAIT_POLICY', 'GOMP_SPINCOUNT')

#: what the toolbox sets when the user chose nothing
PASSIVE = 'PASSIVE'

_set_here = False  # whether configure_cpu_threads set the policy


def configure_cpu_threads(environ: Optional[MutableMapping] = None) -> bool:
    """Make OpenMP threads wait passively unless the user chose a policy.

    Takes effect only when called before torch is imported (libgomp reads
    its environment once, when loaded); the tools call it first thing.

    Args:
        environ (MutableMapping, optional): the environment to change;
            None: ``os.environ``.

    Returns:
        bool: True if the toolbox set the policy, False if the user's
        settings were kept.
    """
    global _set_here
    environ = os.environ if environ is None else environ
    if any(name in environ for name in WAIT_VARIABLES):
        return False
    environ['OMP_WAIT_POLICY'] = PASSIVE
    _set_here = environ is os.environ
    return True


def waits_passively(environ: Optional[MutableMapping] = None) -> bool:
    """Whether this process's threads wait passively (``OMP_WAIT_POLICY=
    PASSIVE`` or ``GOMP_SPINCOUNT=0``): then ONNX Runtime's pool does not
    spin either."""
    environ = os.environ if environ is None else environ
    return (environ.get('OMP_WAIT_POLICY', '').upper() == PASSIVE
            or environ.get('GOMP_SPINCOUNT', '').strip() == '0')


def available_cores() -> int:
    """CPU cores this process may run on (its affinity mask)."""
    if hasattr(os, 'sched_getaffinity'):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def describe_cpu_threads(environ: Optional[MutableMapping] = None) -> str:
    """One line for the log: intra-op threads, where the count comes from,
    how the threads wait, and how to change both."""
    import torch
    environ = os.environ if environ is None else environ
    threads = torch.get_num_threads()
    source = ('OMP_NUM_THREADS' if 'OMP_NUM_THREADS' in environ else
              f'one per core available, of {available_cores()}')
    settings = ', '.join(f'{name}={environ[name]}' for name in WAIT_VARIABLES
                         if name in environ) or 'OpenMP default'
    if _set_here and environ is os.environ:
        settings += ', set by the toolbox'
    wait = 'passively' if waits_passively(environ) else 'spinning first'
    return (f'CPU threads: {threads} intra-op ({source}), waiting {wait} '
            f'({settings}); set OMP_NUM_THREADS / OMP_WAIT_POLICY to '
            'choose')
