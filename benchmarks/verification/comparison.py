"""Comparing the two sides' numbers: trained states (per group, with the
worst keys), weight fingerprints, parameters without a true gradient, the
law of freshly initialised tensors, loss windows and SAM-SPL's BCE
saturation."""
import math
from typing import Dict, List, Sequence

import numpy as np
import torch
from torch import nn

from .official_models import CONVERTER_NAMES
from .settings import StepSpec


def fingerprint(state: Dict[str, torch.Tensor]) -> Dict[str, List[float]]:
    """Per tensor, in float64: sum, sum of |x| and the dot product with a
    ramp from -1 to 1 (order-sensitive)."""
    out = {}
    for key, value in state.items():
        value = value.detach().double().flatten()
        ramp = torch.linspace(-1.0, 1.0, value.numel(), dtype=torch.float64)
        out[key] = [value.sum().item(), value.abs().sum().item(),
                    (value * ramp).sum().item()]
    return out


def _bn_buffer(key: str) -> bool:
    return key.rsplit('.', 1)[-1] in ('running_mean', 'running_var',
                                      'num_batches_tracked')


def compare_states(spec: StepSpec, official: Dict[str, torch.Tensor],
                   other: Dict[str, torch.Tensor],
                   initial: Dict[str, torch.Tensor],
                   parameters: Dict[str, bool],
                   no_true_gradient: Sequence[str] = ()) -> dict:
    """Max abs / rel difference between two trained states, per group, with
    the worst keys. ``official`` and ``initial`` have official keys,
    ``other`` ours (or official ones, converted too). ``parameters``: our
    parameter keys -> trainable. Groups: ``weights`` (trainable parameters
    with a gradient), ``weights_no_true_gradient`` (official keys in
    ``no_true_gradient``: a bias followed by a train-mode BatchNorm, whose
    exact gradient is 0, so its computed gradient is rounding noise that
    Adam-type optimizers normalise into updates), ``frozen``,
    ``bn_buffers``, ``other_buffers``. ``moved``: the largest change of the
    official tensors in training."""
    from serankdet.apis.conversion import convert_state_dict
    official_ours, _ = convert_state_dict(spec.converter, official)
    initial_ours, _ = convert_state_dict(spec.converter, initial)
    if set(other) != set(official_ours):
        other, _ = convert_state_dict(spec.converter, other)
    spec_map = _converter_map(spec.converter)
    noise_keys = {spec_map(k) for k in no_true_gradient}
    groups = {name: {} for name in ('weights', 'weights_no_true_gradient',
                                    'frozen', 'bn_buffers',
                                    'other_buffers')}
    for key, ref in official_ours.items():
        if key in parameters:
            group = ('frozen' if not parameters[key] else
                     'weights_no_true_gradient' if key in noise_keys else
                     'weights')
        else:
            group = 'bn_buffers' if _bn_buffer(key) else 'other_buffers'
        ref64, mine64 = ref.double(), other[key].double()
        if not ref.numel():
            continue
        diff = (mine64 - ref64).abs().max().item()
        scale = ref64.abs().max().item()
        moved = (ref64 - initial_ours[key].double()).abs().max().item()
        groups[group][key] = dict(abs=diff, rel=diff / scale if scale
                                  else diff, moved=moved)
    summary = {}
    for group, entries in groups.items():
        if not entries:
            continue
        worst_abs = max(entries, key=lambda k: entries[k]['abs'])
        worst_rel = max(entries, key=lambda k: entries[k]['rel'])
        summary[group] = dict(
            count=len(entries),
            max_abs=entries[worst_abs]['abs'], worst_abs_key=worst_abs,
            max_rel=entries[worst_rel]['rel'], worst_rel_key=worst_rel,
            max_moved=max(e['moved'] for e in entries.values()))
    return summary


def fingerprint_difference(spec: StepSpec, official: Dict[str, List[float]],
                           ours: Dict[str, List[float]]) -> dict:
    """Largest fingerprint difference relative to the tensor's sum of |x|
    (what the CI test bounds), with its key (ours)."""
    map_key = _converter_map(spec.converter)
    worst, worst_key = 0.0, None
    for key, values in official.items():
        mine = ours.get(map_key(key))
        if mine is None:
            continue
        scale = max(abs(values[1]), 1e-30)
        rel = max(abs(a - b) for a, b in zip(mine, values)) / scale
        if rel >= worst:
            worst, worst_key = rel, map_key(key)
    return dict(max_rel=worst, worst_key=worst_key)


def _converter_map(name: str):
    from serankdet.models.converters import get_converter
    return get_converter(name).map_key


def gradient_maxima(model: nn.Module) -> Dict[str, float]:
    return {k: p.grad.abs().max().item() for k, p in model.named_parameters()
            if p.grad is not None and p.numel()}


def without_true_gradient(maxima: Dict[str, float],
                          ratio: float = 1e-10) -> List[str]:
    """Parameters whose first gradient is below ``ratio`` times the largest
    one: rounding noise (in float64 about 1e-20 against 1e-2 and more)."""
    if not maxima:
        return []
    top = max(maxima.values())
    return sorted(k for k, v in maxima.items() if v <= ratio * top)


def bce_saturation(dtype=torch.float32) -> List[dict]:
    """SAM-SPL's official loss, ``BCELoss(sigmoid(x), t)``, against ours,
    ``binary_cross_entropy_with_logits(x, t)``, for t = 0 and growing x:
    equal until sigmoid(x) rounds to 1 (x > 16.6 in float32, 36.7 in
    float64); from there the official loss is clamped (log >= -100) and
    its gradient is 0, while ours keeps loss x and gradient 1."""
    rows = []
    for value in (5.0, 10.0, 15.0, 17.0, 20.0, 30.0, 40.0):
        grads = []
        for official in (True, False):
            x = torch.tensor([value], dtype=dtype, requires_grad=True)
            t = torch.zeros(1, dtype=dtype)
            loss = (nn.functional.binary_cross_entropy(x.sigmoid(), t)
                    if official else
                    nn.functional.binary_cross_entropy_with_logits(x, t))
            loss.backward()
            grads.append((loss.item(), x.grad.item()))
        rows.append(dict(logit=value, target=0, official_loss=grads[0][0],
                         official_grad=grads[0][1], our_loss=grads[1][0],
                         our_grad=grads[1][1]))
    return rows


#: a tensor whose official and our statistics differ by more than this many
#: standard errors is reported as drawn from another law
LAW_Z_LIMIT = 4.0


def tensor_law(official: torch.Tensor, ours: torch.Tensor) -> dict:
    """Mean and std of one freshly initialised tensor on each side, and how
    many standard errors apart they are (``z_mean``, ``z_std``; the standard
    error of a sample std of n values is about s / sqrt(2 n))."""
    a, b = official.double().flatten(), ours.double().flatten()
    n = a.numel()
    row = dict(numel=n, official_mean=a.mean().item(), ours_mean=b.mean().item(),
               official_std=a.std().item(), ours_std=b.std().item())
    variance = row['official_std']**2 + row['ours_std']**2
    if variance == 0:  # constants on both sides: must be equal
        row['z_mean'] = row['z_std'] = (
            0.0 if torch.equal(a, b) else math.inf)
    else:
        row['z_mean'] = abs(row['official_mean'] - row['ours_mean']) / \
            math.sqrt(variance / n)
        row['z_std'] = abs(row['official_std'] - row['ours_std']) / \
            math.sqrt(variance / (2 * n))
    return row


def window_means(values: List[float], windows: int = 4) -> List[float]:
    """Means of ``values`` over ``windows`` consecutive, near-equal runs
    (fewer when there are fewer values)."""
    return [float(np.mean(chunk)) for chunk in np.array_split(
        np.asarray(values, float), min(windows, len(values)))]


def official_state_dict(reference: str, official: torch.nn.Module,
                        ours: Dict[str, torch.Tensor]
                        ) -> Dict[str, torch.Tensor]:
    """The official network's state dict with every tensor our converter
    maps taken from our state dict ``ours`` (the converter run backwards);
    tensors the converter drops (parameters the official forward never
    uses) keep the official network's own values."""
    from serankdet.models.converters.base import get_converter
    converter = get_converter(CONVERTER_NAMES[reference])
    state = official.state_dict()
    missing = []
    for key in state:
        our_key = converter.map_key(key)
        if our_key is None:
            continue
        if our_key not in ours or ours[our_key].shape != state[key].shape:
            missing.append(f'{key} <- {our_key}')
            continue
        state[key] = ours[our_key]
    if missing:
        raise SystemExit(
            f'the checkpoint is not a {reference} checkpoint of the parity '
            f'setting: {len(missing)} official tensors without a value of the '
            f'same shape, e.g. {missing[:3]}')
    return state
