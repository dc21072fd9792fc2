"""Operating points on a Pd-Fa curve, and calibrated decision rules.

* :func:`select_operating_point`: the point of a threshold sweep (the
  ``curves`` of :class:`~serankdet.evaluation.IRSTDMetric`) that meets a
  false-alarm budget or a detection rate.
* :func:`pd_at_fixed_false_alarms`: Pd at the fixed false-alarm rates of
  :data:`FIXED_FALSE_ALARM_POINTS`, which the metric reports beside its
  fixed-threshold numbers.
* :func:`save_calibration` / :func:`load_calibration`: the sidecar
  ``<checkpoint>.decision.json`` in which
  ``tools/analysis_tools/calibrate.py`` stores the decision rule it chose;
  :func:`apply_calibration` makes ``tools/test.py``, ``tools/infer.py`` and
  :class:`~serankdet.apis.IRSTDInferencer` use it without a flag. The
  checkpoint itself is never changed.
"""
import json
import os
import os.path as osp
from typing import Dict, Optional, Sequence, Tuple

import numpy as np
from mmengine.config import Config

from serankdet.utils.file_hash import file_sha256
from .functional import DecisionRule

#: The criteria of :func:`select_operating_point`.
CRITERIA = ('max_fa', 'max_false_per_frame', 'min_pd')

#: Pd at fixed false-alarm rates: metric key -> criterion. Fa is in units of
#: 1e-6 (1.0 is a pixel false-alarm rate of 1e-6).
FIXED_FALSE_ALARM_POINTS = {
    'Pd@Fa=1e-6': dict(max_fa=1.0),
    'Pd@Fa=1e-5': dict(max_fa=10.0),
    'Pd@fa_objects_per_image=0.1': dict(max_false_per_frame=0.1),
}

#: Suffix of the calibration sidecar of a checkpoint.
CALIBRATION_SUFFIX = '.decision.json'

#: The decode_head keys that make up the decision rule.
RULE_KEYS = tuple(DecisionRule.__dataclass_fields__)


def select_operating_point(curves: Dict[str, Sequence[float]],
                           max_fa: Optional[float] = None,
                           max_false_per_frame: Optional[float] = None,
                           min_pd: Optional[float] = None) -> Optional[int]:
    """Index of the curve point that one criterion chooses.

    Exactly one criterion is given:

    * ``max_fa``: points with ``Fa <= max_fa`` (units of 1e-6); the one of
      highest Pd;
    * ``max_false_per_frame``: points with ``fa_objects_per_image <=
      max_false_per_frame``; the one of highest Pd;
    * ``min_pd``: points with ``Pd >= min_pd``; the one of lowest Fa.

    Ties are broken by the lower Fa (or the higher Pd for ``min_pd``), then
    the higher IoU, then the lower threshold.

    Args:
        curves (dict): per-threshold lists ``threshold``, ``Pd``, ``Fa``,
            ``IoU`` and ``fa_objects_per_image`` (T values each).

    Returns:
        int | None: index into the curves, None when no point meets the
        criterion.
    """
    given = {name: value for name, value in zip(
        CRITERIA, (max_fa, max_false_per_frame, min_pd)) if value is not None}
    if len(given) != 1:
        raise ValueError(f'give exactly one of {", ".join(CRITERIA)}, got '
                         f'{sorted(given) or "none"}')
    pd, fa, iou, thr, objects = (
        np.asarray(curves[key], dtype=np.float64) for key in
        ('Pd', 'Fa', 'IoU', 'threshold', 'fa_objects_per_image'))
    if min_pd is not None:
        feasible = pd >= min_pd
        order = np.lexsort((thr, -iou, -pd, fa))
    else:
        feasible = (fa <= max_fa if max_fa is not None else
                    objects <= max_false_per_frame)
        order = np.lexsort((thr, -iou, fa, -pd))
    order = order[feasible[order]]
    return int(order[0]) if len(order) else None


def pd_at_fixed_false_alarms(curves: Dict[str, Sequence[float]]
                             ) -> Dict[str, float]:
    """Pd at each point of :data:`FIXED_FALSE_ALARM_POINTS`: the highest Pd
    of the curve within that false-alarm rate (0 when no threshold of the
    grid keeps within it)."""
    points = {}
    for key, criterion in FIXED_FALSE_ALARM_POINTS.items():
        index = select_operating_point(curves, **criterion)
        points[key] = 0.0 if index is None else float(curves['Pd'][index])
    return points


def calibration_file(checkpoint: str) -> str:
    """The sidecar path of ``checkpoint``: ``<checkpoint>.decision.json``."""
    return os.fspath(checkpoint) + CALIBRATION_SUFFIX


def save_calibration(checkpoint: str, rule: DecisionRule,
                     **record) -> str:
    """Write ``rule`` into the sidecar of ``checkpoint``, atomically
    (written to ``<file>.partial``, then renamed).

    Args:
        checkpoint (str): the calibrated checkpoint (its SHA-256 is stored:
            a sidecar is refused for another file of the same name).
        rule (DecisionRule): the chosen rule.
        **record: JSON-ready details kept beside it (criterion, split,
            the chosen curve point, the curve).

    Returns:
        str: the sidecar's path.
    """
    path = calibration_file(checkpoint)
    content = dict(decision_rule=rule.to_dict(),
                   checkpoint=osp.basename(checkpoint),
                   checkpoint_sha256=file_sha256(checkpoint), **record)
    partial = path + '.partial'
    with open(partial, 'w', encoding='utf-8') as handle:
        json.dump(content, handle, indent=2)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(partial, path)
    return path


def load_calibration(checkpoint: str) -> Optional[Tuple[DecisionRule, str]]:
    """The calibrated rule of ``checkpoint`` and its sidecar path, or None
    when it has no sidecar.

    Raises:
        ValueError: the sidecar is damaged or belongs to another file (the
            checkpoint was replaced after calibration).
    """
    path = calibration_file(checkpoint)
    if not osp.isfile(path):
        return None
    try:
        with open(path, encoding='utf-8') as handle:
            content = json.load(handle)
        rule = DecisionRule(**content['decision_rule'])
        sha256 = content['checkpoint_sha256']
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise ValueError(
            f'calibration file {path} is damaged ({error}); run '
            'tools/analysis_tools/calibrate.py again or delete it') from None
    if sha256 != file_sha256(checkpoint):
        raise ValueError(
            f'calibration file {path} was written for another '
            f'{osp.basename(checkpoint)} (the checkpoint changed since); run '
            'tools/analysis_tools/calibrate.py again or delete it')
    return rule, path


def rule_options(cfg_options: Optional[dict]) -> list:
    """The ``--cfg-options`` keys among ``cfg_options`` that set the
    decision rule (``model.decode_head.<threshold|min_area|...>``)."""
    keys = [f'model.decode_head.{key}' for key in RULE_KEYS]
    return [key for key in (cfg_options or {}) if key in keys]


def apply_calibration(cfg: Config, checkpoint: Optional[str],
                      overrides: Sequence[str] = ()) -> Optional[str]:
    """Put the calibrated rule of ``checkpoint`` into ``cfg.model.
    decode_head`` unless the user decides the rule.

    Args:
        cfg (Config): the config the model will be built from (changed).
        checkpoint (str, optional): the checkpoint to be loaded.
        overrides (Sequence[str]): the user's settings that decide the rule
            (e.g. ``--threshold`` or ``model.decode_head.threshold`` of
            :func:`rule_options`); the sidecar is then not used.

    Returns:
        str | None: what was done, for the log ("using calibrated threshold
        T from FILE"), None without a sidecar.
    """
    found = load_calibration(checkpoint) if checkpoint else None
    if found is None:
        return None
    rule, path = found
    return apply_rule(cfg, rule, path, overrides)


def describe_rule(rule: DecisionRule) -> str:
    """``threshold T`` and the rule's other settings that are not the
    defaults (``threshold 0.4, min_area 2``)."""
    extras = {key: value for key, value in rule.to_dict().items()
              if key != 'threshold' and value != getattr(DecisionRule, key)}
    details = ''.join(f', {key} {value}' for key, value in extras.items())
    return f'threshold {rule.threshold:g}{details}'


def apply_rule(cfg: Config, rule: DecisionRule, source: str,
               overrides: Sequence[str] = (),
               kind: str = 'calibrated') -> str:
    """Put a stored ``rule`` (of a checkpoint's sidecar or an ONNX file's
    metadata) into ``cfg.model.decode_head`` unless ``overrides`` (the
    user's rule settings, see :func:`apply_calibration`) are given.

    Returns:
        str: what was done, for the log: "using {kind} threshold T[, ...]
        from SOURCE" or "not using {kind} threshold T from SOURCE: X given".
    """
    if overrides:
        return (f'not using {kind} threshold {rule.threshold:g} from '
                f'{source}: {", ".join(overrides)} given')
    cfg.model.decode_head.update(rule.to_dict())
    return f'using {kind} {describe_rule(rule)} from {source}'
