"""The CPU thread policy of the tools (serankdet.utils.cpu_threads):
passive waiting unless the user chose, and the log line that says so."""
import subprocess
import sys

import torch

from serankdet.utils.cpu_threads import (configure_cpu_threads,
                                         describe_cpu_threads,
                                         waits_passively)
from tests.conftest import REPO_ROOT


def test_passive_waiting_is_set_when_the_user_chose_nothing():
    environ = {'OMP_NUM_THREADS': '2'}
    assert configure_cpu_threads(environ) is True
    assert environ == {'OMP_NUM_THREADS': '2', 'OMP_WAIT_POLICY': 'PASSIVE'}
    assert waits_passively(environ)


def test_the_users_wait_policy_is_kept():
    for chosen in ({'OMP_WAIT_POLICY': 'ACTIVE'}, {'GOMP_SPINCOUNT': '1000'}):
        environ = dict(chosen)
        assert configure_cpu_threads(environ) is False
        assert environ == chosen
        assert not waits_passively(environ)
    assert waits_passively({'GOMP_SPINCOUNT': '0'})
    assert waits_passively({'OMP_WAIT_POLICY': 'passive'})


def test_description_names_threads_policy_and_override():
    threads = torch.get_num_threads()
    line = describe_cpu_threads({'OMP_NUM_THREADS': str(threads),
                                 'OMP_WAIT_POLICY': 'ACTIVE'})
    assert line == (f'CPU threads: {threads} intra-op (OMP_NUM_THREADS), '
                    'waiting spinning first (OMP_WAIT_POLICY=ACTIVE); set '
                    'OMP_NUM_THREADS / OMP_WAIT_POLICY to choose')
    line = describe_cpu_threads({})
    assert line.startswith(f'CPU threads: {threads} intra-op (one per core '
                           'available, of ')
    assert 'waiting spinning first (OpenMP default)' in line


def test_tools_set_the_policy_before_torch_loads():
    """run_cli sets it first thing: torch is not loaded yet, so libgomp
    reads it."""
    code = ('import os, sys\n'
            'from serankdet.cli import run_cli\n'
            'def main(argv):\n'
            '    print("torch" in sys.modules, os.environ["OMP_WAIT_POLICY"])\n'
            'run_cli(main)\n')
    env = {'PATH': '', 'PYTHONPATH': REPO_ROOT}
    out = subprocess.run([sys.executable, '-c', code], env=env, text=True,
                         capture_output=True, check=True).stdout
    assert out == 'False PASSIVE\n'
    env['OMP_WAIT_POLICY'] = 'ACTIVE'
    out = subprocess.run([sys.executable, '-c', code], env=env, text=True,
                         capture_output=True, check=True).stdout
    assert out == 'False ACTIVE\n'
