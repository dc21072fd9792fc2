"""Augmentation parameters from draw logs: the official draws and ours
parsed into parameters (flip, long side, crop position, blur radius,
copy-paste), official parameters turned into the script our pipeline
replays, and the statistics that compare the two samples and test each
against its intended law."""
from typing import Dict, List

import numpy as np

from .data_hooks import Cursor


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


QUANTILES = (0.0, 0.05, 0.25, 0.5, 0.75, 0.95, 1.0)


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
