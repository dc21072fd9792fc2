"""Random draws of data pipelines, logged and replayed: the official
module's ``random`` replaced by a logging recorder, ``numpy.random``
replaced by a recorder drawing from a private ``RandomState`` or replaying
a script of values (checked against the range each call asks for), the
global generator states checked untouched, and a cursor over a draw
log."""
import contextlib
import random
from collections import deque
from typing import List, Optional

import numpy as np
import torch


class ParityError(AssertionError):
    """A draw that cannot be mapped between the two sides."""


class PyRandomRecorder:
    """Replaces the ``random`` module inside one official module: draws
    from its own ``random.Random(seed)`` and logs ``(name, args, value)``.
    Any other ``random.*`` function raises, so no draw goes unlogged."""

    def __init__(self, seed: int = 0):
        self.rng = random.Random(seed)
        self.log: List[tuple] = []

    def random(self):
        value = self.rng.random()
        self.log.append(('random', (), value))
        return value

    def randint(self, a, b):
        value = self.rng.randint(a, b)
        self.log.append(('randint', (a, b), value))
        return value

    def __getattr__(self, name):
        raise ParityError(f'official code called random.{name}: not logged')


@contextlib.contextmanager
def recording_module_random(module, recorder: PyRandomRecorder):
    saved = module.random
    module.random = recorder
    try:
        yield recorder
    finally:
        module.random = saved


class NumpyRandom:
    """Replaces ``numpy.random.{rand,randint,uniform,choice}`` while active.

    Without ``script`` the values come from a private
    ``RandomState(seed)`` (the global numpy state is not used). With
    ``script`` (a list of ``(name, value)``) every call must be the next
    scripted one and returns its value, checked against the range the
    caller asks for (``choice`` takes a uniform number ``u`` and returns
    the element numpy would pick for it). Every call is logged. Other
    numpy.random functions raise while active.
    """
    ALLOWED = ('rand', 'randint', 'uniform', 'choice')
    FORBIDDEN = ('random', 'random_sample', 'randn', 'normal', 'shuffle',
                 'permutation', 'binomial', 'random_integers', 'sample',
                 'ranf', 'beta', 'poisson', 'standard_normal')

    def __init__(self, seed: int = 0, script: Optional[list] = None):
        self.rs = np.random.RandomState(seed)
        self.script = None if script is None else deque(script)
        self.log: List[tuple] = []
        self._saved = {}

    def __enter__(self):
        for name in self.ALLOWED + self.FORBIDDEN:
            self._saved[name] = getattr(np.random, name)
            if name in self.ALLOWED:
                fn = (lambda n: lambda *a, **k: self._call(n, a, k))(name)
            else:
                fn = (lambda n: lambda *a, **k: self._forbidden(n))(name)
            setattr(np.random, name, fn)
        return self

    def __exit__(self, *exc):
        for name, fn in self._saved.items():
            setattr(np.random, name, fn)
        return False

    @staticmethod
    def _forbidden(name):
        raise ParityError(f'our pipeline called numpy.random.{name}: not '
                          'handled by the recorder')

    def _call(self, name, args, kwargs):
        if self.script is None:
            value = getattr(self.rs, name)(*args, **kwargs)
        else:
            value = self._replay(name, args, kwargs)
        self.log.append((name, args, value))
        return value

    def _replay(self, name, args, kwargs):
        if not self.script:
            raise ParityError(f'our pipeline drew numpy.random.{name}{args} '
                              'but the official code drew nothing more')
        want, value = self.script.popleft()
        if want != name:
            raise ParityError(f'call order: our pipeline called {name}'
                              f'{args}, the replay expected {want}')
        if name == 'rand':
            if args:
                raise ParityError('rand with a shape is not replayable')
            return float(value)
        if name == 'uniform':
            low, high = (list(args) + [0.0, 1.0][len(args):])[:2]
            if not low <= value <= high:
                raise ParityError(f'official value {value} outside our '
                                  f'uniform range [{low}, {high})')
            return float(value)
        if name == 'randint':
            low, high = (0, args[0]) if len(args) == 1 else args[:2]
            if not low <= value < high:
                raise ParityError(f'official value {value} outside our '
                                  f'randint range [{low}, {high})')
            return int(value)
        # choice(a, p=...): the element numpy picks for a uniform `value`
        options = list(args[0])
        prob = np.asarray(kwargs.get('p', [1.0 / len(options)] *
                                     len(options)), np.float64)
        cdf = np.cumsum(prob)
        cdf /= cdf[-1]
        return options[int(np.searchsorted(cdf, value, side='right'))]

    def leftover(self) -> int:
        return 0 if self.script is None else len(self.script)


def rng_states():
    return (random.getstate(), np.random.get_state()[1].copy(),
            torch.get_rng_state().clone())


def same_states(a, b) -> bool:
    return (a[0] == b[0] and np.array_equal(a[1], b[1])
            and torch.equal(a[2], b[2]))


class Cursor:
    """Sequential reader of a draw log."""

    def __init__(self, log):
        self.log, self.i = list(log), 0

    def peek(self):
        return self.log[self.i] if self.i < len(self.log) else (None, (),
                                                                None)

    def take(self, name):
        n, a, v = self.peek()
        if n != name:
            raise ParityError(f'draw {self.i}: expected {name}, got {n}')
        self.i += 1
        return a, v

    def done(self):
        if self.i != len(self.log):
            raise ParityError(f'{len(self.log) - self.i} unparsed draws: '
                              f'{self.log[self.i:][:3]}')
