"""Augmentation parity: our training pipelines against the official ones.

For each model the OFFICIAL training data code is imported at run time from
a checkout of the authors' repository (nothing of it is copied here):

* SeRankDet: ``utils/data.py`` ``DatasetLoad`` (PIL, ``random``);
* DATransNet: ``utils/datasets.py`` ``NUDTSIRSTSetLoader`` /
  ``IRSTD1KSetLoader`` (cv2, no random augmentation);
* SAM-SPL: ``dataset/image_floder.py`` ``ImageFolder`` (PIL, ``random``),
  its NUDT-SIRST branch, its IRSTD-1k branch with target copy-paste (the
  checkout's ``dataset/IRSTD-1k/Target_{image,mask}`` bank) and its
  IRSTDID-SKY branch;

and OUR training pipeline is built from the model's config (the config's
``train_dataloader.dataset``: our ``IRSTDDataset`` with the mmengine Compose
of ``train_pipeline``) followed by the model's data preprocessor, so both
sides end at the tensor the network receives. Both run on the same real
images (SIRST and NUDT-SIRST in the shared layout
``{trainval,test}/{images,masks}``; a case whose data or checkout is absent
is skipped with a message). The configs of SeRankDet and SAM-SPL read
frames as RGB (``LoadIRSTDImageFromFile(color_type='rgb')``, as PIL
``convert('RGB')``), so their cases draw their images among all frames,
colour ones included, and compare the three channels of the network
input; the gray configs (DATransNet) draw among frames with gray content.
Per case:

a. distributions: ``--draws`` samples per side cycling over the same
   images. The official side's ``random`` module is replaced, inside the
   official module only, by a recorder drawing from its own
   ``random.Random(seed)``; our side's ``numpy.random`` functions are
   replaced by recorders drawing from a ``RandomState(seed)``. Every draw is
   logged and parsed into the augmentation parameters (flip, long side /
   scale factor, crop position, blur and radius, copy-paste count, crop
   index and position), compared by mean, quantiles and the two-sample
   Kolmogorov-Smirnov statistic; each side's flips, long sides, radii and
   paste counts are also tested against the intended law (binomial test,
   chi-square, one-sample KS). Global ``random``, ``numpy`` and ``torch``
   generator states are checked to be untouched (no unlogged draw).
b. pixel-exact: the two sides use different generators (Python ``random``
   vs ``numpy.random``) in a different call order, so they cannot be seeded
   alike. Instead the parameters the official code drew are REPLAYED into
   our pipeline (the numpy functions return them, in our call order, and
   each value is checked to lie in the range our transform asks for), and
   the network inputs and masks are compared pixel by pixel. The same is
   done with our former cv2 resize/blur to show what the fix changed.
c. loaders: every training image and mask read by the official loader
   (PIL ``convert('RGB')`` / cv2 gray) against ours, as one channel
   (``color_type='gray'``) and as RGB (``color_type='rgb'``, which must
   equal PIL's RGB bit for bit).

d. ops: our resize and blur against Pillow's on every training image and
   mask, at long sides 0.5 to 2 x base size and radii 0.1 to 0.9, beside
   the cv2 ops they replaced; and the references' test resize
   (SeRankDet ``mode='test'``) against our ``LegacyTestResize``.

Results: a table per case on stdout and ``--out`` (JSON). When torchvision
is not installed, the official files get a stand-in for the part of
``torchvision.transforms`` they use (``Compose``, ``ToTensor``,
``Normalize``, ``Lambda``, written after torchvision's documented
semantics), installed only while those files are imported.

Usage (from the repository root)::

    python benchmarks/augmentation_parity.py [--draws 2000] \
        [--exact-samples 24] [--reference-root serankdet=../refs/SeRankDet] \
        [--data-root SIRST=../shared/datasets/SIRST]
"""
import argparse
import contextlib
import json
import math
import os
import os.path as osp
import random
import sys
import tempfile
import time
import types
from collections import deque
from typing import Dict, List, Optional

import cv2
import numpy as np
import torch
from PIL import Image

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
from reference_models import (_bare_package, _load_file,  # noqa: E402
                              _temporary_modules)

DEFAULT_REFS = {
    'serankdet': '../refs/SeRankDet',
    'datransnet': '../refs/DATransNet',
    'samspl': '../refs/SAM-SPL',
}
DEFAULT_DATA = {
    'SIRST': '../shared/datasets/SIRST',
    'NUDT-SIRST': '../shared/datasets/NUDT-SIRST',
}
QUANTILES = (0.0, 0.05, 0.25, 0.5, 0.75, 0.95, 1.0)
# base size of the op check per dataset (SeRankDet's configs)
OPS_BASE = {'SIRST': 512, 'NUDT-SIRST': 256}


class ParityError(AssertionError):
    """A draw that cannot be mapped between the two sides."""


# --------------------------------------------------------------------------
# torchvision stand-in (the official loaders import torchvision.transforms
# at module level; only these four classes are used)


def _torchvision_standin() -> Dict[str, types.ModuleType]:
    """``torchvision`` itself when installed, else the stand-in modules."""
    import importlib.util
    if importlib.util.find_spec('torchvision') is not None:
        return {}
    return _torchvision_modules()


def _torchvision_modules() -> Dict[str, types.ModuleType]:

    class Compose:

        def __init__(self, transforms):
            self.transforms = list(transforms)

        def __call__(self, x):
            for t in self.transforms:
                x = t(x)
            return x

    class ToTensor:
        """HWC (or HW) uint8 -> CHW float32 / 255; other dtypes unscaled."""

        def __call__(self, pic):
            if isinstance(pic, Image.Image):
                pic = np.array(pic)
            if pic.ndim == 2:
                pic = pic[:, :, None]
            t = torch.from_numpy(pic.transpose((2, 0, 1))).contiguous()
            if t.dtype == torch.uint8:
                return t.to(torch.get_default_dtype()).div(255)
            return t

    class Normalize:
        """(t - mean[c]) / std[c] in the tensor's dtype."""

        def __init__(self, mean, std):
            self.mean, self.std = list(mean), list(std)

        def __call__(self, t):
            mean = torch.as_tensor(self.mean, dtype=t.dtype).view(-1, 1, 1)
            std = torch.as_tensor(self.std, dtype=t.dtype).view(-1, 1, 1)
            return t.sub(mean).div(std)

    class Lambda:

        def __init__(self, fn):
            self.fn = fn

        def __call__(self, x):
            return self.fn(x)

    tv = types.ModuleType('torchvision')
    tr = types.ModuleType('torchvision.transforms')
    tr.Compose, tr.ToTensor, tr.Normalize, tr.Lambda = (Compose, ToTensor,
                                                        Normalize, Lambda)
    tv.transforms = tr
    return {'torchvision': tv, 'torchvision.transforms': tr}


# --------------------------------------------------------------------------
# loading the official data code


def load_official(name: str, root: str) -> types.ModuleType:
    """The official dataset module of ``name`` from the checkout ``root``."""
    if name == 'serankdet':
        path = osp.join(root, 'utils', 'data.py')
        with _temporary_modules('serankdet', _torchvision_standin()):
            return _load_file(path, '_reference_serankdet_data')
    if name == 'datransnet':
        path = osp.join(root, 'utils', 'datasets.py')
        os.environ.setdefault('MPLBACKEND', 'Agg')
        # datasets.py does `from utils.images import load_image`
        with _temporary_modules('datransnet', {
                'utils': _bare_package('utils', osp.join(root, 'utils'))}):
            return _load_file(path, '_reference_datransnet_datasets')
    if name == 'samspl':
        path = osp.join(root, 'dataset', 'image_floder.py')
        with _temporary_modules('samspl-t', _torchvision_standin()):
            return _load_file(path, '_reference_samspl_image_folder')
    raise KeyError(name)


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


# --------------------------------------------------------------------------
# parameter parsing: official logs, our logs, and official -> our script


def parse_official_sync(log, copy_paste: bool) -> dict:
    """SeRankDet ``_sync_transform`` / SAM-SPL ``_sync_transform``."""
    c = Cursor(log)
    p = {}
    _, p['u_flip'] = c.take('random')
    p['flip'] = p['u_flip'] < 0.5
    (lo, hi), p['long_side'] = c.take('randint')
    p['long_range'] = (lo, hi)
    (_, p['margin_w']), p['x1'] = c.take('randint')
    (_, p['margin_h']), p['y1'] = c.take('randint')
    _, p['u_blur'] = c.take('random')
    p['blur'] = p['u_blur'] < 0.5
    if p['blur']:
        _, p['radius'] = c.take('random')
    if copy_paste:
        _, p['cp_count'] = c.take('randint')  # drawn before the dice
        _, dice = c.take('randint')
        p['paste'] = dice == 1
        p['pastes'] = []
        if p['paste']:
            for _ in range(p['cp_count']):
                (_, kmax), k = c.take('randint')
                (_, wmax), x = c.take('randint')
                (_, hmax), y = c.take('randint')
                p['pastes'].append((k, x, y, kmax + 1, wmax + 1, hmax + 1))
    c.done()
    return p


def script_from_official_sync(p: dict, copy_paste: bool) -> list:
    """Our pipeline's draws (RandomFlip, RandomRescaleLongSide, RandomCrop
    h then w, RandomGaussianBlur, TargetCopyPaste) for official ``p``."""
    script = [('choice', p['u_flip']), ('randint', p['long_side']),
              ('randint', p['y1']), ('randint', p['x1']),
              ('rand', p['u_blur'])]
    if p['blur']:
        script.append(('uniform', p['radius']))
    if copy_paste:
        script.append(('rand', 0.25 if p['paste'] else 0.75))
        if p['paste']:
            script.append(('randint', p['cp_count']))
            for k, x, y, *_ in p['pastes']:
                script += [('randint', k), ('randint', y), ('randint', x)]
    return script


def parse_ours_sync(log, copy_paste: bool, blur_prob=0.5,
                    paste_prob=0.5) -> dict:
    c = Cursor(log)
    p = {}
    _, direction = c.take('choice')
    p['flip'] = direction is not None
    (lo, hi), p['long_side'] = c.take('randint')
    p['long_range'] = (lo, hi - 1)
    (_, mh1), p['y1'] = c.take('randint')
    (_, mw1), p['x1'] = c.take('randint')
    p['margin_h'], p['margin_w'] = mh1 - 1, mw1 - 1
    _, p['u_blur'] = c.take('rand')
    p['blur'] = p['u_blur'] < blur_prob
    if p['blur']:
        _, p['radius'] = c.take('uniform')
    if copy_paste:
        _, u = c.take('rand')
        p['paste'] = u < paste_prob
        p['pastes'] = []
        if p['paste']:
            _, p['cp_count'] = c.take('randint')
            for _ in range(p['cp_count']):
                (kmax, ), k = c.take('randint')
                (hmax, ), y = c.take('randint')
                (wmax, ), x = c.take('randint')
                p['pastes'].append((k, x, y, kmax, wmax, hmax))
    c.done()
    return p


def parse_official_nudt_samspl(log) -> dict:
    """SAM-SPL NUDT-SIRST: random_crop's loop (identity at 256), then
    vertical flip, horizontal flip, transpose."""
    c = Cursor(log)
    loops = 0
    while len(c.log) - c.i > 3:
        c.take('randint'), c.take('randint'), c.take('random')
        loops += 1
    p = {'crop_loops': loops}
    for key in ('vflip', 'hflip', 'transpose'):
        _, p['u_' + key] = c.take('random')
        p[key] = p['u_' + key] < 0.5
    c.done()
    return p


def parse_ours_nudt_samspl(log) -> dict:
    c = Cursor(log)
    p = {}
    _, v = c.take('choice')
    p['vflip'] = v is not None
    _, v = c.take('choice')
    p['hflip'] = v is not None
    _, u = c.take('rand')
    p['transpose'] = u < 0.5
    c.done()
    return p


def script_from_official_nudt_samspl(p: dict) -> list:
    return [('choice', p['u_vflip']), ('choice', p['u_hflip']),
            ('rand', p['u_transpose'])]


# --------------------------------------------------------------------------
# statistics


def describe(values) -> dict:
    arr = np.asarray(values, np.float64)
    if arr.size == 0:
        return dict(n=0)
    return dict(n=int(arr.size), mean=float(arr.mean()),
                std=float(arr.std()),
                quantiles={str(q): float(np.quantile(arr, q))
                           for q in QUANTILES})


def compare_values(official, ours, law=None) -> dict:
    """Both samples described, their two-sample KS statistic, and with
    ``law`` the p-value of each against the intended distribution."""
    import warnings

    from scipy.stats import ks_2samp
    out = dict(official=describe(official), ours=describe(ours))
    if len(official) and len(ours):
        with warnings.catch_warnings():
            warnings.simplefilter('ignore', RuntimeWarning)
            res = ks_2samp(np.asarray(official, float),
                           np.asarray(ours, float))
        out['ks'] = float(res.statistic)
        out['ks_pvalue'] = float(res.pvalue)
    if law is not None:
        out['law'] = law[0]
        out['law_pvalue'] = dict(official=law[1](official),
                                 ours=law[1](ours))
    return out


def bernoulli_law(prob=0.5):
    from scipy.stats import binomtest
    return (f'Bernoulli({prob})', lambda v: float(binomtest(
        int(np.sum(v)), len(v), prob).pvalue) if len(v) else None)


def uniform_int_law(low, high):
    """U{low..high}: chi-square over the integers."""
    from scipy.stats import chisquare

    def pvalue(v):
        if not len(v):
            return None
        counts = np.bincount(np.asarray(v, int) - low,
                             minlength=high - low + 1)
        return float(chisquare(counts).pvalue)

    return f'U{{{low}..{high}}} (chi-square)', pvalue


def uniform_law():
    from scipy.stats import kstest
    return 'U(0, 1) (KS)', lambda v: float(kstest(v, 'uniform').pvalue) \
        if len(v) else None


def sync_param_series(params: List[dict], long_sides: List[int],
                      copy_paste: bool) -> Dict[str, list]:
    s = {k: [] for k in ('flip', 'long_side', 'scale_factor', 'x1', 'y1',
                         'crop_pos_x', 'crop_pos_y', 'blur', 'radius')}
    if copy_paste:
        s.update({k: [] for k in ('paste', 'paste_count', 'paste_index',
                                  'paste_x', 'paste_y')})
    for p, orig_long in zip(params, long_sides):
        s['flip'].append(float(p['flip']))
        s['long_side'].append(p['long_side'])
        s['scale_factor'].append(p['long_side'] / orig_long)
        s['x1'].append(p['x1'])
        s['y1'].append(p['y1'])
        if p['margin_w'] > 0:
            s['crop_pos_x'].append(p['x1'] / p['margin_w'])
        if p['margin_h'] > 0:
            s['crop_pos_y'].append(p['y1'] / p['margin_h'])
        s['blur'].append(float(p['blur']))
        if p['blur']:
            s['radius'].append(p['radius'])
        if copy_paste:
            s['paste'].append(float(p['paste']))
            if p['paste']:
                s['paste_count'].append(p['cp_count'])
                for k, x, y, nk, w, h in p['pastes']:
                    s['paste_index'].append(k / nk)
                    s['paste_x'].append(x / w)
                    s['paste_y'].append(y / h)
    return s


# --------------------------------------------------------------------------
# our side


def build_ours(config: str, data_root: str, bank=None):
    """Our training dataset (the config's pipeline) and the model's data
    preprocessor. ``bank`` replaces the bank the dataset gives its
    TargetCopyPaste (the targets of its own samples)."""
    from mmengine.config import Config

    from serankdet.datasets.transforms import TargetCopyPaste
    from serankdet.registry import DATASETS, MODELS
    cfg = Config.fromfile(osp.join(REPO, config))
    ds_cfg = cfg.train_dataloader.dataset
    ds_cfg.data_root = data_root
    dataset = DATASETS.build(ds_cfg)
    if bank is not None:
        for t in dataset.pipeline.transforms:
            if isinstance(t, TargetCopyPaste):
                t.bank = bank
    pre = MODELS.build(cfg.model.data_preprocessor)
    index = {osp.splitext(osp.basename(dataset.get_data_info(i)['img_path']))
             [0]: i for i in range(len(dataset))}
    return dataset, pre, index, cfg


def run_ours(dataset, pre, idx: int, rng: NumpyRandom):
    before = rng_states()
    with rng:
        packed = dataset[idx]
    if not same_states(before, rng_states()):
        raise ParityError('our pipeline drew from a global generator')
    out = pre(dict(inputs=[packed['inputs']],
                   data_samples=[packed['data_samples']]), training=True)
    img = out['inputs'][0]
    mask = out['data_samples'][0].gt_sem_seg.data
    return img, mask, packed


def cv2_resize(array, width, height, nearest=False):
    """Our resize before the parity fix."""
    inter = cv2.INTER_NEAREST_EXACT if nearest else cv2.INTER_LINEAR
    return cv2.resize(array, (width, height), interpolation=inter)


def cv2_blur(img, radius):
    """Our blur before the parity fix."""
    return cv2.GaussianBlur(img, (0, 0), sigmaX=radius, sigmaY=radius,
                            borderType=cv2.BORDER_REPLICATE)


@contextlib.contextmanager
def former_cv2_ops(resize: bool = True, blur: bool = True):
    """Our transforms with the ops they had before the parity fix: cv2
    resize (INTER_LINEAR / INTER_NEAREST_EXACT) and/or cv2 Gaussian blur."""
    from serankdet.datasets.transforms import processing
    saved = processing.resize_like_pil, processing.gaussian_blur_like_pil
    if resize:
        processing.resize_like_pil = cv2_resize
    if blur:
        processing.gaussian_blur_like_pil = cv2_blur
    try:
        yield
    finally:
        processing.resize_like_pil, processing.gaussian_blur_like_pil = saved


# variants of our side replayed in the pixel-exact part
VARIANTS = {
    'exact': lambda: contextlib.nullcontext(),
    'exact_former_cv2_resize': lambda: former_cv2_ops(blur=False),
    'exact_former_cv2_blur': lambda: former_cv2_ops(resize=False),
}
VARIANT_LABELS = {
    'exact': 'ours',
    'exact_former_cv2_resize': 'ours with the former cv2 resize',
    'exact_former_cv2_blur': 'ours with the former cv2 blur',
}
RNG_NOTE = {
    'sync': 'official: Python random (random.random / randint); ours: '
    'numpy.random (choice / randint / rand / uniform), crop offsets drawn '
    'h before w (official: x before y), copy-paste count drawn before the '
    'dice (ours: after): no common seeding, so the official draws are '
    'replayed into our pipeline',
    'datransnet': 'no random augmentation on either side: outputs compared '
    'directly',
    'test_resize': 'deterministic test transform: outputs compared directly',
}


# --------------------------------------------------------------------------
# comparisons of outputs


def compare_pixels(off_img, off_mask, our_img, our_mask, std255) -> dict:
    """Pixel comparison of the network inputs and masks."""
    off_img = torch.as_tensor(off_img).float()
    our_img = our_img.float()
    res = dict(shape_official=list(off_img.shape),
               shape_ours=list(our_img.shape))
    if off_img.shape != our_img.shape:
        res['same_shape'] = False
        return res
    diff = (off_img - our_img).abs()
    res['same_shape'] = True
    res['img_max_abs'] = float(diff.max())
    # in gray levels of the 8-bit source: normalised diff x std x 255
    res['img_max_gray_levels'] = float(
        (diff * torch.as_tensor(std255).view(-1, 1, 1)).max())
    res['img_pixels_differing'] = int((diff.amax(0) > 1e-4).sum())
    res['img_pixels_differing_1e-6'] = int((diff.amax(0) > 1e-6).sum())
    om = torch.as_tensor(off_mask).float().reshape(our_mask.shape)
    res['mask_pixels_differing'] = int((om != our_mask.float()).sum())
    return res


def summarise_exact(rows: List[dict]) -> dict:
    same = [r for r in rows if r.get('same_shape')]
    out = dict(samples=len(rows), same_shape=len(same))
    if same:
        out['img_max_abs'] = max(r['img_max_abs'] for r in same)
        out['img_max_gray_levels'] = max(r['img_max_gray_levels']
                                         for r in same)
        out['img_pixels_differing'] = sum(r['img_pixels_differing']
                                          for r in same)
        out['img_pixels_differing_1e-6'] = sum(
            r['img_pixels_differing_1e-6'] for r in same)
        out['mask_pixels_differing'] = sum(r['mask_pixels_differing']
                                           for r in same)
        out['samples_bit_exact'] = sum(
            r['img_max_abs'] == 0 and r['mask_pixels_differing'] == 0
            for r in same)
        out['samples_within_1e-4'] = sum(
            r['img_pixels_differing'] == 0 and r['mask_pixels_differing'] == 0
            for r in same)
    return out


class OutputStats:
    """Shapes, dtypes and value ranges of the outputs of one side."""

    def __init__(self):
        self.shapes, self.dtypes, self.mask_values = set(), set(), set()
        self.img_min, self.img_max = math.inf, -math.inf

    def add(self, img, mask):
        img = torch.as_tensor(img)
        mask = torch.as_tensor(mask)
        self.shapes.add(tuple(img.shape))
        self.dtypes.add(f'{img.dtype} / mask {mask.dtype}')
        self.img_min = min(self.img_min, float(img.min()))
        self.img_max = max(self.img_max, float(img.max()))
        self.mask_values.update(float(v) for v in torch.unique(mask))

    def as_dict(self):
        return dict(shapes=sorted(list(s) for s in self.shapes),
                    dtypes=sorted(self.dtypes),
                    img_range=[self.img_min, self.img_max],
                    mask_values=sorted(self.mask_values))


def affine_constants(mean, std) -> List[list]:
    """(mean, std) pairs per channel on the 0-255 scale."""
    return [[float(m), float(s)] for m, s in zip(mean, std)]


def normalisation_error(off, ours) -> float:
    """Largest |official - ours| normalised value over x = 0..255, float64
    (the constants alone, without float32 rounding)."""
    x = np.arange(256, dtype=np.float64)
    worst = 0.0
    for (mo, so), (mu, su) in zip(off, ours):
        worst = max(worst, float(np.abs((x - mo) / so - (x - mu) / su).max()))
    return worst


# --------------------------------------------------------------------------
# image selection and loader checks


def natural_key(stem):
    import re
    return [int(t) if t.isdigit() else t for t in re.split(r'(\d+)', stem)]


def gray_content(path) -> bool:
    rgb = np.array(Image.open(path).convert('RGB'))
    return bool((rgb[..., 0] == rgb[..., 1]).all()
                and (rgb[..., 0] == rgb[..., 2]).all())


def select_images(root: str, count: int, split: str = 'trainval',
                  gray_only: bool = True) -> List[str]:
    """``count`` stems of ``split`` spread over sizes, among the frames
    with gray content (``gray_only``) or among all of them."""
    folder = osp.join(root, split, 'images')
    stems = sorted((osp.splitext(f)[0] for f in os.listdir(folder)
                    if f.endswith('.png')), key=natural_key)
    if gray_only:
        stems = [s for s in stems
                 if gray_content(osp.join(folder, s + '.png'))]
    sizes = {s: Image.open(osp.join(folder, s + '.png')).size for s in stems}
    by_size = sorted(stems, key=lambda s: (sizes[s][0] * sizes[s][1],
                                           natural_key(s)))
    if len(by_size) <= count:
        return by_size
    pick = np.linspace(0, len(by_size) - 1, count).round().astype(int)
    return [by_size[i] for i in sorted(set(pick.tolist()))]


def config_color_type(config: str) -> str:
    """The colour type of the loader of a config's training pipeline."""
    from mmengine.config import Config
    pipeline = Config.fromfile(osp.join(REPO, config)).train_dataloader[
        'dataset']['pipeline']
    return next(t.get('color_type', 'gray') for t in pipeline
                if t['type'] == 'LoadIRSTDImageFromFile')


def colour_images(root: str, stems: List[str],
                  split: str = 'trainval') -> int:
    """How many of ``stems`` have channels that differ."""
    return sum(not gray_content(osp.join(root, split, 'images', s + '.png'))
               for s in stems)


def loader_check(root: str) -> dict:
    """Official loaders' reading of every trainval image/mask vs ours."""
    from serankdet.datasets.image_io import imread_gray, imread_mask
    from serankdet.datasets.transforms import LoadIRSTDImageFromFile
    load_rgb = LoadIRSTDImageFromFile(color_type='rgb')
    folder = osp.join(root, 'trainval')
    stems = sorted(osp.splitext(f)[0]
                   for f in os.listdir(osp.join(folder, 'images'))
                   if f.endswith('.png'))
    res = dict(images=len(stems), rgb_channels_differ=0,
               max_rgb_vs_our_gray=0, pil_L_vs_our_gray_max=0,
               pil_rgb_vs_our_rgb_differing=0, pil_rgb_vs_our_rgb_max=0,
               cv2_gray_vs_ours_differing=0, mask_mismatch_pil=0,
               mask_mismatch_thr127=0, mask_values=set(),
               image_modes={})
    for s in stems:
        ip = osp.join(folder, 'images', s + '.png')
        mp = osp.join(folder, 'masks', s + '.png')
        pil = Image.open(ip)
        res['image_modes'][pil.mode] = res['image_modes'].get(pil.mode,
                                                              0) + 1
        rgb = np.array(pil.convert('RGB')).astype(int)
        ours = imread_gray(ip).astype(int)
        if not ((rgb[..., 0] == rgb[..., 1]).all()
                and (rgb[..., 0] == rgb[..., 2]).all()):
            res['rgb_channels_differ'] += 1
        res['max_rgb_vs_our_gray'] = max(
            res['max_rgb_vs_our_gray'],
            int(np.abs(rgb - ours[..., None]).max()))
        # SeRankDet / SAM-SPL: convert('RGB') against color_type='rgb'
        our_rgb = load_rgb(dict(img_path=ip))['img']
        same = our_rgb.shape == rgb.shape and our_rgb.dtype == np.uint8
        diff = int(np.abs(rgb - our_rgb).max()) if same else -1
        res['pil_rgb_vs_our_rgb_differing'] += int(diff != 0)
        res['pil_rgb_vs_our_rgb_max'] = max(res['pil_rgb_vs_our_rgb_max'],
                                            diff)
        res['pil_L_vs_our_gray_max'] = max(
            res['pil_L_vs_our_gray_max'],
            int(np.abs(np.array(pil.convert('L')).astype(int) - ours).max()))
        # DATransNet: cv2.imdecode(-1) + BGR2GRAY
        raw = cv2.imdecode(np.fromfile(ip, np.uint8), -1)
        if raw.ndim == 3:
            raw = cv2.cvtColor(raw, cv2.COLOR_BGR2GRAY)
        res['cv2_gray_vs_ours_differing'] += int(
            raw.shape != ours.shape or (raw.astype(int) != ours).any())
        mask_l = np.array(Image.open(mp).convert('L'))
        our_mask = imread_mask(mp)
        res['mask_values'].update(int(v) for v in np.unique(mask_l))
        # SeRankDet: convert('L') / 255; SAM-SPL: >= 127 -> 255
        res['mask_mismatch_pil'] += int(
            (mask_l.astype(np.float64) / 255 != our_mask).any())
        res['mask_mismatch_thr127'] += int(((mask_l >= 127) !=
                                            (our_mask == 1)).any())
    res['mask_values'] = sorted(res['mask_values'])
    return res


def ops_check(root: str, base: int, limit: Optional[int] = None) -> dict:
    """The resize and blur ops on every trainval image and mask: ours and
    our former cv2 ops against Pillow (what the official loaders call), at
    long sides 0.5, 0.75, 1, 1.5 and 2 x ``base`` and blur radii 0.1..0.9.
    """
    from PIL import ImageFilter

    from serankdet.datasets.image_io import imread_gray, imread_mask
    from serankdet.datasets.transforms.processing import (
        gaussian_blur_like_pil, resize_like_pil)
    folder = osp.join(root, 'trainval')
    stems = sorted(osp.splitext(f)[0]
                   for f in os.listdir(osp.join(folder, 'images'))
                   if f.endswith('.png'))[:limit]
    res = dict(images=len(stems), resize_cases=0, blur_cases=0,
               ours_img_differing=0, ours_mask_differing=0,
               ours_blur_differing=0, cv2_img_max_diff=0,
               cv2_img_mean_abs_diff_downscale=[],
               cv2_img_mean_abs_diff_upscale=[],
               cv2_img_max_diff_on_targets=0,
               cv2_img_mean_abs_diff_on_targets=[],
               cv2_mask_cases_differing=0, cv2_mask_pixels_differing=0,
               cv2_mask_cases_target_count_changed=0,
               cv2_blur_max_diff=0, cv2_blur_mean_abs_diff=[],
               cv2_blur_max_diff_on_targets=0,
               cv2_blur_cases_unchanged_while_pil_changes=0)
    radii = (0.1, 0.2, 0.3, 0.5, 0.7, 0.9)
    for s in stems:
        img = imread_gray(osp.join(folder, 'images', s + '.png'))
        mask = imread_mask(osp.join(folder, 'masks', s + '.png'))
        h, w = img.shape
        for ratio in (0.5, 0.75, 1.0, 1.5, 2.0):
            long_side = int(base * ratio)
            if h > w:
                nh, nw = long_side, int(w * long_side / h + 0.5)
            else:
                nh, nw = int(h * long_side / w + 0.5), long_side
            ref_img = np.array(Image.fromarray(img).resize(
                (nw, nh), Image.BILINEAR)).astype(int)
            ref_mask = np.array(Image.fromarray(mask).resize(
                (nw, nh), Image.NEAREST)).astype(int)
            res['resize_cases'] += 1
            res['ours_img_differing'] += int(
                (resize_like_pil(img, nw, nh) != ref_img).any())
            res['ours_mask_differing'] += int(
                (resize_like_pil(mask, nw, nh, True) != ref_mask).any())
            diff = np.abs(cv2_resize(img, nw, nh).astype(int) - ref_img)
            res['cv2_img_max_diff'] = max(res['cv2_img_max_diff'],
                                          int(diff.max()))
            key = ('cv2_img_mean_abs_diff_downscale' if nw < w else
                   'cv2_img_mean_abs_diff_upscale')
            if nw != w:
                res[key].append(float(diff.mean()))
            on_target = ref_mask == 1
            if on_target.any():
                res['cv2_img_max_diff_on_targets'] = max(
                    res['cv2_img_max_diff_on_targets'],
                    int(diff[on_target].max()))
                res['cv2_img_mean_abs_diff_on_targets'].append(
                    float(diff[on_target].mean()))
            cm = cv2_resize(mask, nw, nh, nearest=True).astype(int)
            n_diff = int((cm != ref_mask).sum())
            res['cv2_mask_cases_differing'] += int(n_diff > 0)
            res['cv2_mask_pixels_differing'] += n_diff
            res['cv2_mask_cases_target_count_changed'] += int(
                cm.sum() != ref_mask.sum())
        if img.dtype != np.uint8:
            continue
        for radius in radii:
            ref = np.array(Image.fromarray(img).filter(
                ImageFilter.GaussianBlur(radius))).astype(int)
            res['blur_cases'] += 1
            res['ours_blur_differing'] += int(
                (gaussian_blur_like_pil(img, radius) != ref).any())
            cv = cv2_blur(img, radius).astype(int)
            diff = np.abs(cv - ref)
            res['cv2_blur_max_diff'] = max(res['cv2_blur_max_diff'],
                                           int(diff.max()))
            res['cv2_blur_mean_abs_diff'].append(float(diff.mean()))
            if mask.any():
                res['cv2_blur_max_diff_on_targets'] = max(
                    res['cv2_blur_max_diff_on_targets'],
                    int(diff[mask == 1].max()))
            res['cv2_blur_cases_unchanged_while_pil_changes'] += int(
                (cv == img).all() and (ref != img).any())
    for key in ('cv2_img_mean_abs_diff_downscale',
                'cv2_img_mean_abs_diff_upscale', 'cv2_blur_mean_abs_diff',
                'cv2_img_mean_abs_diff_on_targets'):
        values = res[key]
        res[key] = dict(mean=float(np.mean(values)) if values else None,
                        max=float(np.max(values)) if values else None)
    return res


# --------------------------------------------------------------------------
# official datasets on our data layout


@contextlib.contextmanager
def chdir(path):
    old = os.getcwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(old)


def samspl_folder(module, ref_root, tmp, data_root, data_set, stems,
                  base_size):
    """SAM-SPL's ImageFolder over our trainval images: ``<tmp>/<data_set>/
    {images,masks}`` link to them, ``Target_{image,mask}`` to the
    checkout's IRSTD-1k bank, and the split file it reads from
    ``./dataset/set_configs/<data_set>/train.txt`` lists ``stems``."""
    base = osp.join(tmp, 'samspl', data_set)
    os.makedirs(base, exist_ok=True)
    for sub in ('images', 'masks'):
        link = osp.join(base, sub)
        if not osp.exists(link):
            os.symlink(osp.abspath(osp.join(data_root, 'trainval', sub)),
                       link)
    bank = osp.join(ref_root, 'dataset', 'IRSTD-1k')
    for sub in ('Target_image', 'Target_mask'):
        link = osp.join(base, sub)
        if not osp.exists(link):
            os.symlink(osp.abspath(osp.join(bank, sub)), link)
    cfg_dir = osp.join(tmp, 'samspl_cwd', 'dataset', 'set_configs', data_set)
    os.makedirs(cfg_dir, exist_ok=True)
    with open(osp.join(cfg_dir, 'train.txt'), 'w') as f:
        f.write('\n'.join(stems) + '\n')
    with chdir(osp.join(tmp, 'samspl_cwd')):
        return module.ImageFolder(osp.join(tmp, 'samspl'), data_set=data_set,
                                  istraining=True, base_size=base_size,
                                  crop_size=base_size, copy_paste=True)


def official_bank_for_ours(ref_root: str, color_type: str = 'gray'):
    """The checkout's IRSTD-1k crops as our TargetCopyPaste bank, in the
    order the official code indexes them (two os.listdir calls paired by
    position), read with our loaders (the images as ``color_type``)."""
    from serankdet.datasets.image_io import (imread_gray, imread_mask,
                                             imread_rgb)
    read = imread_rgb if color_type == 'rgb' else imread_gray
    base = osp.join(ref_root, 'dataset', 'IRSTD-1k')
    imgs = os.listdir(osp.join(base, 'Target_image'))
    masks = os.listdir(osp.join(base, 'Target_mask'))
    return [(read(osp.join(base, 'Target_image', i)),
             imread_mask(osp.join(base, 'Target_mask', m)))
            for i, m in zip(imgs, masks)]


# --------------------------------------------------------------------------
# the cases


def run_sync_case(case: dict, args, tmp) -> dict:
    """A SeRankDet / SAM-SPL case: flip, rescale, pad, crop, blur (and
    copy-paste), official parameters parsed from the logs."""
    module = case['module']
    copy_paste = case.get('copy_paste', False)
    nudt = case.get('nudt_samspl', False)
    data_root = case['data_root']
    stems = case['stems']
    off_ds = case['official_dataset']()
    off_index = case['official_index'](off_ds)
    ours, pre, our_index, cfg = build_ours(case['config'], data_root,
                                           case.get('bank'))
    std255 = (pre.std * 255).flatten().tolist()
    sizes = {s: Image.open(osp.join(data_root, 'trainval', 'images',
                                    s + '.png')).size for s in stems}

    def official_sample(stem, seed):
        rec = PyRandomRecorder(seed)
        before = rng_states()
        with recording_module_random(module, rec):
            out = off_ds[off_index[stem]]
        if not same_states(before, rng_states()):
            raise ParityError('official code drew from a global generator')
        return out[0], out[1], rec.log

    def parse_off(log):
        return (parse_official_nudt_samspl(log) if nudt else
                parse_official_sync(log, copy_paste))

    def parse_our(log):
        return (parse_ours_nudt_samspl(log) if nudt else
                parse_ours_sync(log, copy_paste))

    result = dict(config=case['config'], official=case['official_desc'],
                  images=stems, data_root=data_root,
                  color_type=config_color_type(case['config']),
                  images_with_colour=colour_images(data_root, stems))
    # a. distributions
    if args.draws and case.get('distributions', True):
        t0 = time.time()
        # each side one generator seeded once, then draws in sequence
        off_params, our_params, longs = [], [], []
        off_stats, our_stats = OutputStats(), OutputStats()
        off_rec = PyRandomRecorder(args.seed)
        our_rng = NumpyRandom(args.seed)
        for i in range(args.draws):
            stem = stems[i % len(stems)]
            w, h = sizes[stem]
            longs.append(max(w, h))
            off_rec.log.clear()
            with recording_module_random(module, off_rec):
                oimg, omask = off_ds[off_index[stem]][:2]
            off_params.append(parse_off(off_rec.log))
            off_stats.add(oimg, omask)
            our_rng.log.clear()
            img, mask, _ = run_ours(ours, pre, our_index[stem], our_rng)
            our_params.append(parse_our(our_rng.log))
            our_stats.add(img, mask)
        laws = {k: bernoulli_law() for k in ('flip', 'blur', 'paste',
                                             'vflip', 'hflip', 'transpose')}
        if nudt:
            keys = ('vflip', 'hflip', 'transpose')
            so = {k: [float(p[k]) for p in off_params] for k in keys}
            su = {k: [float(p[k]) for p in our_params] for k in keys}
            result['official_crop_loop_draws'] = describe(
                [p['crop_loops'] for p in off_params])
        else:
            so = sync_param_series(off_params, longs, copy_paste)
            su = sync_param_series(our_params, longs, copy_paste)
            result['long_side_range'] = dict(
                official=list(off_params[0]['long_range']),
                ours=list(our_params[0]['long_range']))
            laws['long_side'] = uniform_int_law(
                *off_params[0]['long_range'])
            laws['radius'] = uniform_law()
            laws['paste_count'] = uniform_int_law(1, 100)
        result['distributions'] = {k: compare_values(so[k], su[k],
                                                     laws.get(k))
                                   for k in so}
        result['outputs'] = dict(official=off_stats.as_dict(),
                                 ours=our_stats.as_dict())
        result['distribution_seconds'] = time.time() - t0
    # b. pixel-exact by replay
    t0 = time.time()
    rows = {key: [] for key in VARIANTS}
    coverage = {}
    for j in range(args.exact_samples):
        stem = stems[j % len(stems)]
        seed = 1000 + j
        oimg, omask, log = official_sample(stem, seed)
        p = parse_off(log)
        for key in ('flip', 'blur', 'paste', 'vflip', 'hflip', 'transpose'):
            if key in p:
                coverage[key] = coverage.get(key, 0) + int(p[key])
        script = (script_from_official_nudt_samspl(p) if nudt else
                  script_from_official_sync(p, copy_paste))
        row = dict(image=stem, seed=seed)
        for key, make_ctx in VARIANTS.items():
            if key != 'exact' and nudt:
                continue  # neither resize nor blur in this pipeline
            rng = NumpyRandom(script=script)
            with make_ctx():
                img, mask, _ = run_ours(ours, pre, our_index[stem], rng)
            if rng.leftover():
                raise ParityError(f'{rng.leftover()} official draws unused')
            rows[key].append(
                dict(row, **compare_pixels(oimg, omask, img, mask, std255)))
    for key, sample_rows in rows.items():
        if sample_rows:
            result[key] = summarise_exact(sample_rows)
            result[key]['per_sample'] = sample_rows
    result['exact']['coverage'] = coverage
    result['exact_seconds'] = time.time() - t0
    # normalisation constants
    result['normalisation'] = dict(
        official=case['official_norm'](off_ds),
        ours=affine_constants((pre.mean * 255).flatten().tolist(),
                              (pre.std * 255).flatten().tolist()))
    ours_n = result['normalisation']['ours']
    off_n = result['normalisation']['official']
    if len(off_n) == len(ours_n):
        result['normalisation']['max_abs_error'] = normalisation_error(
            off_n, ours_n)
    result['pipeline_ours'] = [t['type'] for t in
                               cfg.train_dataloader.dataset.pipeline]
    return result


def run_datransnet_case(case: dict, args, tmp) -> dict:
    """DATransNet: no random augmentation; the whole output compared."""
    module = case['module']
    data_root = case['data_root']
    stems = case['stems']
    base = osp.join(tmp, 'datransnet')
    os.makedirs(osp.join(base, 'img_idx'), exist_ok=True)
    for sub in ('images', 'masks'):
        link = osp.join(base, sub)
        if not osp.exists(link):
            os.symlink(osp.abspath(osp.join(data_root, 'trainval', sub)),
                       link)
    for fname in ('train_NUDT-SIRST.txt', 'train_IRSTD-1K.txt'):
        with open(osp.join(base, 'img_idx', fname), 'w') as f:
            f.write('\n'.join(stems) + '\n')
    off_ds = getattr(module, case['loader'])(base_dir=base, mode='trainval')
    ours, pre, our_index, cfg = build_ours(case['config'], data_root)
    t0 = time.time()
    rows, draws = [], dict(official=0, ours=0)
    off_stats, our_stats = OutputStats(), OutputStats()
    for i, stem in enumerate(stems):
        before = rng_states()
        oimg, omask = off_ds[i]
        if not same_states(before, rng_states()):
            draws['official'] += 1
        rng = NumpyRandom(0)
        img, mask, _ = run_ours(ours, pre, our_index[stem], rng)
        draws['ours'] += len(rng.log)
        off_stats.add(oimg, omask)
        our_stats.add(img, mask)
        rows.append(dict(image=stem, **compare_pixels(
            oimg, omask, img, mask, (pre.std * 255).flatten().tolist())))
    result = dict(config=case['config'], official=case['official_desc'],
                  images=stems, data_root=data_root,
                  random_draws=draws,
                  outputs=dict(official=off_stats.as_dict(),
                               ours=our_stats.as_dict()),
                  exact=summarise_exact(rows),
                  normalisation=dict(
                      official=[[0.0, 255.0]],
                      ours=affine_constants(
                          (pre.mean * 255).flatten().tolist(),
                          (pre.std * 255).flatten().tolist())),
                  pipeline_ours=[t['type'] for t in
                                 cfg.train_dataloader.dataset.pipeline])
    result['normalisation']['max_abs_error'] = normalisation_error(
        result['normalisation']['official'], result['normalisation']['ours'])
    result['exact']['per_sample'] = rows
    result['exact_seconds'] = time.time() - t0
    return result


def run_test_resize_case(case: dict, args, tmp) -> dict:
    """The references' test resize (SeRankDet ``DatasetLoad(mode='test')``)
    against our ``legacy_test_pipeline`` (``LegacyTestResize``)."""
    from mmengine.config import Config

    from serankdet.registry import DATASETS, MODELS
    module, root, base = case['module'], case['data_root'], case['base']
    color_type = config_color_type(case['config'])
    stems = select_images(root, args.images, 'test',
                          gray_only=color_type == 'gray')
    off_ds = module.DatasetLoad(data_root=root, base_size=base,
                                crop_size=base, mode='test',
                                train_dir='trainval', test_dir='test',
                                data_aug=True, suffix='png')
    off_index = {osp.splitext(n)[0]: i for i, n in
                 enumerate(off_ds.img_names)}
    cfg = Config.fromfile(osp.join(REPO, case['config']))
    ds_cfg = cfg.test_dataloader.dataset
    ds_cfg.data_root = root
    ds_cfg.pipeline = cfg.legacy_test_pipeline
    ours = DATASETS.build(ds_cfg)
    pre = MODELS.build(cfg.model.data_preprocessor)
    our_index = {osp.splitext(osp.basename(ours.get_data_info(i)[
        'img_path']))[0]: i for i in range(len(ours))}
    std255 = (pre.std * 255).flatten().tolist()
    rows = {'exact': [], 'exact_former_cv2_resize': []}
    t0 = time.time()
    for stem in stems:
        oimg, omask = off_ds[off_index[stem]]
        for key in rows:
            ctx = (former_cv2_ops(blur=False) if key != 'exact' else
                   contextlib.nullcontext())
            with ctx:
                packed = ours[our_index[stem]]
            out = pre(dict(inputs=[packed['inputs']],
                           data_samples=[packed['data_samples']]))
            img = out['inputs'][0]
            mask = out['data_samples'][0].gt_sem_seg.data
            rows[key].append(dict(image=stem, **compare_pixels(
                oimg, omask, img, mask, std255)))
    norm = off_ds.rgb_transform.transforms[1]
    result = dict(config=case['config'] + ' (legacy_test_pipeline)',
                  official=case['official_desc'], images=stems,
                  data_root=root, color_type=color_type,
                  images_with_colour=colour_images(root, stems, 'test'),
                  normalisation=dict(
                      official=affine_constants(
                          [m * 255 for m in norm.mean],
                          [s * 255 for s in norm.std]),
                      ours=affine_constants(
                          (pre.mean * 255).flatten().tolist(), std255)),
                  pipeline_ours=[t['type'] for t in ds_cfg.pipeline])
    result['normalisation']['max_abs_error'] = normalisation_error(
        result['normalisation']['official'], result['normalisation']['ours'])
    for key, sample_rows in rows.items():
        result[key] = summarise_exact(sample_rows)
        result[key]['per_sample'] = sample_rows
    result['exact_seconds'] = time.time() - t0
    return result


def make_cases(args, refs, data, modules, tmp) -> List[dict]:
    cases = []
    n_img = args.images
    # gray configs on frames with gray content, RGB configs on all frames
    sel = {name: select_images(root, n_img) for name, root in data.items()}
    sel_all = {name: select_images(root, n_img, gray_only=False)
               for name, root in data.items()}

    def stems_for(config, name):
        return (sel_all if config_color_type(config) == 'rgb' else
                sel)[name]
    if 'serankdet' in modules:
        mod = modules['serankdet']

        def serankdet_case(ds_name, config, base, mod=mod):
            root = data[ds_name]

            def dataset():
                return mod.DatasetLoad(
                    data_root=root, base_size=base, crop_size=base,
                    mode='train', train_dir='trainval', test_dir='test',
                    data_aug=True, suffix='png')

            return dict(
                name=f'serankdet/{ds_name}', kind='sync', module=mod,
                config=config, data_root=root,
                stems=stems_for(config, ds_name),
                official_desc=f'SeRankDet utils/data.py DatasetLoad('
                f'base_size={base}, crop_size={base}, mode="train")',
                official_dataset=dataset,
                official_index=lambda ds: {osp.splitext(n)[0]: i for i, n
                                           in enumerate(ds.img_names)},
                official_norm=lambda ds: affine_constants(
                    [m * 255 for m in ds.rgb_transform.transforms[1].mean],
                    [s * 255 for s in ds.rgb_transform.transforms[1].std]))

        if 'SIRST' in data:
            cases.append(serankdet_case(
                'SIRST', 'configs/serankdet/serankdet_1xb4-1500e_sirst-'
                '512x512.py', 512))
            cases.append(dict(
                name='serankdet/SIRST test resize', kind='test_resize',
                module=mod, base=512, data_root=data['SIRST'],
                config='configs/serankdet/serankdet_1xb4-1500e_sirst-'
                '512x512.py',
                official_desc='SeRankDet utils/data.py DatasetLoad('
                'base_size=512, mode="test")'))
        if 'NUDT-SIRST' in data:
            cases.append(serankdet_case(
                'NUDT-SIRST', 'configs/serankdet/serankdet_1xb8-1500e_nudt-'
                'sirst-256x256.py', 256))
    if 'datransnet' in modules and 'NUDT-SIRST' in data:
        mod = modules['datransnet']
        for loader, config in (
                ('NUDTSIRSTSetLoader', 'configs/datransnet/datransnet_1xb4-'
                 '400e_nudt-sirst-256x256.py'),
                ('IRSTD1KSetLoader', 'configs/datransnet/datransnet_1xb4-'
                 '400e_irstd1k-512x512.py')):
            cases.append(dict(
                name=f'datransnet/NUDT-SIRST ({loader})', kind='datransnet',
                module=mod, loader=loader, config=config,
                data_root=data['NUDT-SIRST'],
                stems=stems_for(config, 'NUDT-SIRST'),
                official_desc=f'DATransNet utils/datasets.py {loader}('
                'mode="trainval")'))
    if 'samspl' in modules:
        mod = modules['samspl']
        ref = refs['samspl']

        def samspl_norm(ds):
            if ds.data_set == 'NUDT-SIRST':  # Normalized(): 0-255 scale
                lo, hi = mod.Normalized(np.array([0.0, 255.0], np.float64),
                                        'NUDT-SIRST')
                std = 255.0 / (hi - lo)
                return affine_constants([-lo * std] * 3, [std] * 3)
            norm = ds.transform.transforms[1]
            return affine_constants([m * 255 for m in norm.mean],
                                    [s * 255 for s in norm.std])

        if 'NUDT-SIRST' in data:
            config = ('configs/samspl/samspl-t_1xb12-300e_nudt-sirst-'
                      '256x256.py')
            stems = stems_for(config, 'NUDT-SIRST')
            cases.append(dict(
                name='samspl/NUDT-SIRST', kind='sync', module=mod,
                nudt_samspl=True, config=config,
                data_root=data['NUDT-SIRST'], stems=stems,
                official_desc='SAM-SPL dataset/image_floder.py ImageFolder('
                'data_set="NUDT-SIRST", base_size=256)',
                official_dataset=lambda stems=stems: samspl_folder(
                    mod, ref, tmp, data['NUDT-SIRST'], 'NUDT-SIRST',
                    stems, 256),
                official_index=lambda ds: {
                    osp.splitext(osp.basename(p))[0]: i
                    for i, p in enumerate(ds.images)},
                official_norm=samspl_norm))
        if 'SIRST' in data:
            for data_set, config, cp in (
                    ('IRSTD-1k', 'configs/samspl/samspl-t_1xb12-300e_'
                     'irstd1k-256x256.py', True),
                    ('IRSTDID-SKY', 'configs/samspl/samspl-t_1xb12-300e_'
                     'irstdid-sky-256x256.py', False)):
                stems = stems_for(config, 'SIRST')
                bank = (official_bank_for_ours(ref, config_color_type(config))
                        if cp else None)
                cases.append(dict(
                    name=f'samspl/{data_set} branch on SIRST', kind='sync',
                    module=mod, copy_paste=cp, bank=bank,
                    distributions=cp,
                    config=config, data_root=data['SIRST'], stems=stems,
                    official_desc='SAM-SPL dataset/image_floder.py '
                    f'ImageFolder(data_set="{data_set}", base_size=256'
                    + (', copy_paste=True; bank: the checkout\'s IRSTD-1k '
                       'Target_image/Target_mask, also given to our '
                       'TargetCopyPaste)' if cp else ')'),
                    official_dataset=(
                        lambda ds_=data_set, stems=stems: samspl_folder(
                            mod, ref, tmp, data['SIRST'], ds_, stems, 256)),
                    official_index=lambda ds: {
                        osp.splitext(osp.basename(p))[0]: i
                        for i, p in enumerate(ds.images)},
                    official_norm=samspl_norm))
    return cases


# --------------------------------------------------------------------------
# printing


def fmt(v, digits=3):
    if v is None:
        return '-'
    if isinstance(v, float):
        if v != 0 and (abs(v) < 1e-3 or abs(v) >= 1e4):
            return f'{v:.2e}'
        return f'{v:.{digits}f}'
    return str(v)


def print_case(name: str, res: dict) -> None:
    print(f'\n=== {name}')
    print(f'official: {res["official"]}')
    print(f'ours:     {res["config"]}  ({" > ".join(res["pipeline_ours"])})')
    if 'color_type' in res:
        print(f'frames read as {res["color_type"]}; {len(res["images"])} '
              f'images, {res["images_with_colour"]} with channels that '
              'differ')
    if 'distributions' in res:
        print('\n| parameter | n off/ours | mean off | mean ours | '
              'q05/q50/q95 off | q05/q50/q95 ours | KS D | p | '
              'p vs law off/ours |')
        print('|---|---|---|---|---|---|---|---|---|')
        for key, d in res['distributions'].items():
            o, u = d['official'], d['ours']
            if not o.get('n') or not u.get('n'):
                continue
            qo = '/'.join(fmt(o['quantiles'][str(q)], 2)
                          for q in (0.05, 0.5, 0.95))
            qu = '/'.join(fmt(u['quantiles'][str(q)], 2)
                          for q in (0.05, 0.5, 0.95))
            law = (f'{fmt(d["law_pvalue"]["official"])}/'
                   f'{fmt(d["law_pvalue"]["ours"])} ({d["law"]})'
                   if 'law' in d else '-')
            print(f'| {key} | {o["n"]}/{u["n"]} | {fmt(o["mean"])} | '
                  f'{fmt(u["mean"])} | {qo} | {qu} | {fmt(d["ks"])} | '
                  f'{fmt(d["ks_pvalue"])} | {law} |')
    if 'random_draws' in res:
        print(f'random draws: {res["random_draws"]}')
    out = res.get('outputs')
    if out:
        for side in ('official', 'ours'):
            s = out[side]
            print(f'{side:8s} output: shapes {s["shapes"]}, {s["dtypes"]}, '
                  f'image range [{fmt(s["img_range"][0])}, '
                  f'{fmt(s["img_range"][1])}], mask values '
                  f'{s["mask_values"]}')
    n = res['normalisation']
    print(f'normalisation (mean, std on 0-255): official {n["official"]} '
          f'ours {n["ours"]}; max |error| {fmt(n.get("max_abs_error"))}')
    for key, label in VARIANT_LABELS.items():
        if key not in res:
            continue
        e = res[key]
        print(f'pixel-exact, {label}: {e["samples"]} samples, '
              f'{e.get("samples_bit_exact")} bit-exact, '
              f'{e.get("samples_within_1e-4")} within 1e-4; image max '
              f'|diff| {fmt(e.get("img_max_abs"))} '
              f'({fmt(e.get("img_max_gray_levels"))} gray levels), '
              f'{e.get("img_pixels_differing")} pixels > 1e-4; mask pixels '
              f'differing {e.get("mask_pixels_differing")}'
              + (f'; coverage {e["coverage"]}' if 'coverage' in e else ''))


def jsonable(obj):
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple, set)):
        return [jsonable(v) for v in obj]
    if isinstance(obj, (np.integer, )):
        return int(obj)
    if isinstance(obj, (np.floating, )):
        return float(obj)
    if isinstance(obj, (np.bool_, )):
        return bool(obj)
    return obj


def parse_pairs(pairs, defaults):
    out = dict(defaults)
    for item in pairs or []:
        key, _, value = item.partition('=')
        out[key] = value
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--reference-root', action='append',
                        metavar='NAME=PATH',
                        help='official checkout (serankdet, datransnet, '
                        f'samspl); defaults {DEFAULT_REFS}')
    parser.add_argument('--data-root', action='append', metavar='NAME=PATH',
                        help=f'dataset (SIRST, NUDT-SIRST); defaults '
                        f'{DEFAULT_DATA}')
    parser.add_argument('--draws', type=int, default=2000,
                        help='samples per side for the distributions')
    parser.add_argument('--exact-samples', type=int, default=24,
                        help='replayed samples per case')
    parser.add_argument('--images', type=int, default=12,
                        help='images per dataset (gray content, spread '
                        'over sizes)')
    parser.add_argument('--ops-images', type=int, default=-1,
                        help='trainval images per dataset for the resize/'
                        'blur op check (-1: all, 0: skip)')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--only', action='append',
                        help='run only cases whose name contains this')
    parser.add_argument('--out', default=osp.join(
        REPO, 'benchmarks', 'results', 'augmentation_parity.json'))
    args = parser.parse_args()
    torch.set_num_threads(1)
    cv2.setNumThreads(1)
    os.chdir(REPO)

    from serankdet.apis import register_all_modules
    register_all_modules()

    refs = parse_pairs(args.reference_root, DEFAULT_REFS)
    data = parse_pairs(args.data_root, DEFAULT_DATA)
    skipped = []
    for name, root in list(data.items()):
        if not osp.isdir(osp.join(root, 'trainval', 'images')):
            skipped.append(f'dataset {name}: {root}/trainval/images absent')
            del data[name]
    modules = {}
    for name, root in refs.items():
        try:
            modules[name] = load_official(name, root)
        except (FileNotFoundError, ImportError, OSError) as err:
            skipped.append(f'official {name}: {err}')
    for line in skipped:
        print(f'SKIPPED {line}')
    results = dict(settings=dict(draws=args.draws, seed=args.seed,
                                 exact_samples=args.exact_samples,
                                 images=args.images, refs=refs, data=data),
                   skipped=skipped, cases={}, loaders={}, ops={})
    t_start = time.time()
    with tempfile.TemporaryDirectory() as tmp:
        for name, root in data.items():
            if args.only and not any(o in name for o in args.only):
                continue
            t0 = time.time()
            results['loaders'][name] = loader_check(root)
            results['loaders'][name]['seconds'] = time.time() - t0
            print(f'\nloaders on {name} trainval: '
                  f'{json.dumps(jsonable(results["loaders"][name]))}')
            if args.ops_images != 0:
                t0 = time.time()
                base = OPS_BASE.get(name, 256)
                results['ops'][name] = ops_check(
                    root, base, args.ops_images if args.ops_images > 0
                    else None)
                results['ops'][name]['base_size'] = base
                results['ops'][name]['seconds'] = time.time() - t0
                print(f'\nresize/blur ops on {name} trainval (base {base}):'
                      f' {json.dumps(jsonable(results["ops"][name]))}')
        for case in make_cases(args, refs, data, modules, tmp):
            if args.only and not any(o in case['name'] for o in args.only):
                continue
            t0 = time.time()
            if case['kind'] == 'datransnet':
                res = run_datransnet_case(case, args, tmp)
            elif case['kind'] == 'test_resize':
                res = run_test_resize_case(case, args, tmp)
            else:
                res = run_sync_case(case, args, tmp)
            res['seconds'] = time.time() - t0
            res['rng'] = RNG_NOTE[case['kind']]
            results['cases'][case['name']] = res
            print_case(case['name'], res)
            print(f'({res["seconds"]:.1f} s)')
    results['seconds'] = time.time() - t_start
    os.makedirs(osp.dirname(args.out), exist_ok=True)
    with open(args.out, 'w') as f:
        json.dump(jsonable(results), f, indent=1)
    print(f'\nwrote {args.out} ({results["seconds"]:.1f} s)')


if __name__ == '__main__':
    main()
