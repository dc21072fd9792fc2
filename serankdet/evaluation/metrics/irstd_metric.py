"""IRSTD metric: pixel IoU / nIoU / F1 and target-level Pd / Fa."""
import os.path as osp
from typing import Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
import torch.nn.functional as F
from mmengine.evaluator import BaseMetric
from mmengine.fileio import dump
from mmengine.logging import print_log
from mmengine.utils import mkdir_or_exist
from prettytable import PrettyTable

from serankdet.registry import METRICS
from ..calibration import pd_at_fixed_false_alarms
from ..functional import (CURVE_FIELDS, MATCHING_MODES, DecisionRule,
                          image_statistics, normalize_thresholds)

NIOU_EMPTY_MODES = ('skip', 'zero')

#: Per-sample integer fields stored in ``IRSTDMetric.results``.
SAMPLE_FIELDS = ('tp', 'fp', 'fn', 'pixels', 'n_gt', 'n_pred', 'n_matched',
                 'fa_pixels', 'fa_objects')


def _ratio(num, den):
    """num / den elementwise, 0 where den == 0 (float64)."""
    num = np.asarray(num, dtype=np.float64)
    den = np.asarray(den, dtype=np.float64)
    return np.divide(num, den, out=np.zeros(np.broadcast(num, den).shape),
                     where=den != 0)


def dump_curves(metrics: dict, path: str) -> dict:
    """Write the curves of an :class:`IRSTDMetric` result to a JSON file.

    Args:
        metrics (dict): what ``IRSTDMetric.compute_metrics`` or the evaluator
            returned (the ``curves`` key, with or without a prefix such as
            ``irstd/curves``). It needs ``curve_thresholds`` set.
        path (str): output ``.json`` path; parent folders are created.

    Returns:
        dict: the dumped curves, a dict of per-threshold lists (``threshold``,
        ``Pd``, ``Fa``, ``IoU``, ``precision``, ``recall``, ``F1``, ``TPR``,
        ``FPR``, ``fa_objects_per_image``).
    """
    keys = [k for k in metrics if k == 'curves' or k.endswith('/curves')]
    if len(keys) != 1:
        raise KeyError('dump_curves needs exactly one "curves" entry in the '
                       f'metrics, found {keys}: build IRSTDMetric with '
                       'curve_thresholds=... to compute them')
    curves = metrics[keys[0]]
    mkdir_or_exist(osp.dirname(osp.abspath(path)))
    dump(curves, path, file_format='json', indent=2)
    return curves


@METRICS.register_module()
class IRSTDMetric(BaseMetric):
    """Infrared small target detection metrics.

    ``process`` scores each image at its native resolution (the model's
    ``seg_logits``, (1, H, W) logits already resized to the original size,
    against ``gt_sem_seg``, (1, H, W), never resized) and stores per-image
    counts in ``self.results``; ``BaseMetric.evaluate`` gathers them across
    ranks (dropping sampler padding) and ``compute_metrics`` reduces them.

    Definitions (reasons in the research notes, peers.md section 2):

    * the predicted mask is the model's :class:`DecisionRule`
      (``sigmoid(logit) > threshold``, then the optional area bounds and
      hysteresis): :class:`~serankdet.engine.IRSTDRunner` gives every
      IRSTDMetric it builds ``model.decode_head.decision_rule``, so that
      the scored pixels are the predicted masks (panels, saved masks);
    * ``IoU`` = sum TP / sum (TP + FP + FN) over the set (the papers' "mIoU");
    * ``nIoU`` = mean per-image IoU over images with targets
      (``niou_empty='zero'``: over all images, empty ones scoring 0);
    * targets are 8-connected components; a target is detected when matched
      one-to-one to a predicted component whose centroid is closer than
      ``distance`` px (optimal assignment, or ``matching='greedy'``);
      ``Pd`` = matched targets / targets;
    * ``Fa`` = pixels of unmatched predicted components / all pixels, in
      units of 1e-6 (as papers print it); ``fa_objects_per_image`` counts
      those components;
    * ``precision``, ``recall``, ``F1``: pixel level, from the summed counts;
    * counts: ``num_images``, ``num_target_images``, ``num_targets``,
      ``num_negative_images`` and ``negative_image_fpr`` (share of images
      without targets that have any predicted pixel).

    IoU, nIoU, Pd, F1, precision and recall are fractions in [0, 1]; a ratio
    with a zero denominator is reported as 0.

    With ``curve_thresholds``, the rule is also applied at each threshold of
    the grid (its area bounds and seed kept), and Pd at fixed false-alarm
    rates is reported beside the fixed-threshold numbers: ``Pd@Fa=1e-6``,
    ``Pd@Fa=1e-5`` (the highest Pd of the grid with Fa at most 1 or 10
    x 1e-6) and ``Pd@fa_objects_per_image=0.1``.

    Args:
        decision_rule (DecisionRule | dict, optional): the rule for a metric
            used on its own (default: threshold 0.5). Under
            :class:`~serankdet.engine.IRSTDRunner` the model's rule is
            used and giving one here is an error: set
            ``model.decode_head.threshold`` (``min_area``, ``max_area``,
            ``seed_threshold``) instead.
        distance (float): centroid matching radius in px (strict). Defaults
            to 3.
        matching (str, optional): ``'hungarian'`` or ``'greedy'`` (reference
            first-found order). Defaults to greedy if ``legacy`` else
            hungarian.
        niou_empty (str, optional): ``'skip'`` images without targets in
            nIoU, or count them as ``'zero'``. Defaults to zero if ``legacy``
            else skip.
        legacy (bool): the reference protocol: ``matching='greedy'`` and
            ``niou_empty='zero'`` unless given explicitly. Combine with
            ``legacy_resize`` (the config's base size) and, for
            bug-compatible numbers, ``fa_area_dedup``.
        legacy_resize (int | tuple[int, int], optional): score at this
            (h, w) instead of the native size: logits resized bilinearly
            (align_corners=False), masks by nearest neighbour (pixel-centre,
            identical to PIL's NEAREST used by the references). The pixel
            count of Fa is then h * w per image, as in the references. The
            references also predict at that size; for the same predictions
            the test pipeline must resize the images to it as well.
        fa_area_dedup (bool): reproduce the reference bug that drops every
            predicted component whose area equals a matched component's area
            from Fa. Defaults to False.
        curve_thresholds (int | Sequence[float], optional): also compute
            Pd-Fa / ROC / IoU curves on this probability grid (an int n gives
            k / (n + 1), k = 1..n). They come back under ``curves``.
        curve_file (str, optional): write the curves to this JSON file at
            each evaluation (needs ``curve_thresholds``).
        collect_device (str): 'cpu' or 'gpu'. Defaults to 'cpu'.
        prefix (str, optional): key prefix. Defaults to 'irstd'.
    """
    default_prefix: Optional[str] = 'irstd'

    def __init__(self,
                 decision_rule: Union[None, dict, DecisionRule] = None,
                 distance: float = 3.0,
                 matching: Optional[str] = None,
                 niou_empty: Optional[str] = None,
                 legacy: bool = False,
                 legacy_resize: Union[None, int, Tuple[int, int]] = None,
                 fa_area_dedup: bool = False,
                 curve_thresholds: Union[None, int, Sequence[float]] = None,
                 curve_file: Optional[str] = None,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None,
                 **kwargs) -> None:
        if 'threshold' in kwargs:
            raise ValueError(
                'IRSTDMetric has no threshold: the decision rule is the '
                "model's, set model.decode_head.threshold (the metric, the "
                'panels and the saved masks follow it)')
        super().__init__(
            collect_device=collect_device, prefix=prefix, **kwargs)
        if distance <= 0:
            raise ValueError(
                f'IRSTDMetric: distance must be positive, got {distance}')
        self.matching = matching or ('greedy' if legacy else 'hungarian')
        if self.matching not in MATCHING_MODES:
            raise ValueError(f'IRSTDMetric: matching must be one of '
                             f'{MATCHING_MODES}, got {matching!r}')
        self.niou_empty = niou_empty or ('zero' if legacy else 'skip')
        if self.niou_empty not in NIOU_EMPTY_MODES:
            raise ValueError(f'IRSTDMetric: niou_empty must be one of '
                             f'{NIOU_EMPTY_MODES}, got {niou_empty!r}')
        if isinstance(legacy_resize, int):
            legacy_resize = (legacy_resize, legacy_resize)
        if legacy_resize is not None and (len(legacy_resize) != 2 or min(
                legacy_resize) < 1):
            raise ValueError('IRSTDMetric: legacy_resize must be an int or '
                             f'(h, w), got {legacy_resize!r}')
        if curve_file is not None and curve_thresholds is None:
            raise ValueError('IRSTDMetric: curve_file needs curve_thresholds '
                             '(an int number of points or a list)')
        #: whether the rule was given here rather than by the model
        self.rule_given = decision_rule is not None
        self.decision_rule = (
            DecisionRule(**decision_rule) if isinstance(decision_rule, dict)
            else decision_rule or DecisionRule())
        self.distance = float(distance)
        self.legacy = legacy
        self.legacy_resize = (
            tuple(int(s) for s in legacy_resize) if legacy_resize else None)
        self.fa_area_dedup = fa_area_dedup
        self.curve_thresholds = (
            None if curve_thresholds is None else
            normalize_thresholds(curve_thresholds))
        self.curve_file = curve_file

    def use_decision_rule(self, rule: DecisionRule) -> None:
        """Score with the model's ``rule`` (``model.decode_head.
        decision_rule``), as :class:`~serankdet.engine.IRSTDRunner` does for
        every IRSTDMetric it builds.

        Raises:
            ValueError: this metric was built with a rule of its own, which
                would be a second place deciding what a target is.
        """
        if self.rule_given:
            raise ValueError(
                'IRSTDMetric: decision_rule is given in the evaluator config, '
                'but the decision rule is the model\'s: remove it there and '
                'set model.decode_head.threshold (min_area, max_area, '
                'seed_threshold) instead')
        self.decision_rule = rule

    def _get_arrays(self, data_sample: dict) -> Tuple[np.ndarray, np.ndarray]:
        """(H, W) float logits and (H, W) mask of one packed data sample."""
        for key in ('seg_logits', 'gt_sem_seg'):
            if key not in data_sample:
                raise KeyError(
                    f'IRSTDMetric needs data_sample["{key}"], found '
                    f'{sorted(data_sample)}: run the model in predict mode '
                    '(IRSTDSegmentor gives seg_logits) on a dataset with '
                    'annotations')
        logits = data_sample['seg_logits']['data'].detach()
        gt = data_sample['gt_sem_seg']['data'].detach()
        if logits.ndim != 3 or logits.shape[0] != 1:
            raise ValueError(
                'IRSTDMetric expects seg_logits of shape (1, H, W) (one '
                f'target logit per pixel), got {tuple(logits.shape)} for '
                f'{data_sample.get("img_path")}')
        if logits.dtype not in (torch.float32, torch.float64):
            # bfloat16 / float16 from autocast (NumPy has no bfloat16);
            # float32 holds every half-precision value exactly.
            logits = logits.float()
        self._check_not_nan(logits, data_sample)
        if self.legacy_resize is not None:
            # Bilinear weights of 0 times an infinite logit would give NaN;
            # +-1e30 is as saturated as +-inf for every threshold in (0, 1).
            logits = F.interpolate(
                logits[None].float().clamp(-1e30, 1e30), self.legacy_resize,
                mode='bilinear', align_corners=False)[0]
            gt = F.interpolate(
                gt[None].float(), self.legacy_resize,
                mode='nearest-exact')[0]
        if logits.shape[-2:] != gt.shape[-2:]:
            raise ValueError(
                f'IRSTDMetric: seg_logits {tuple(logits.shape)} and '
                f'gt_sem_seg {tuple(gt.shape)} differ in size for '
                f'{data_sample.get("img_path")}: predictions must be resized '
                'to the original image size (ori_shape)')
        return logits[0].cpu().numpy(), gt[0].cpu().numpy()

    @staticmethod
    def _check_not_nan(logits: torch.Tensor, data_sample: dict) -> None:
        """Refuse NaN logits, which no threshold can score.

        +inf / -inf are saturated scores (certainly target / background) and
        are scored as such; NaN means the model computed nothing meaningful.
        """
        nan = torch.isnan(logits)
        if nan.any():
            raise ValueError(
                f'IRSTDMetric: the model output (seg_logits) for image '
                f'{data_sample.get("img_path", "<unknown img_path>")} is NaN '
                f'at {int(nan.sum())} of {nan.numel()} pixels: the training '
                'diverged or the checkpoint is broken (check the loss in the '
                'log, or test an earlier checkpoint); NaN would be scored '
                'silently as "no target"')

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        """Store the per-image statistics of a batch in ``self.results``.

        Args:
            data_batch: the dataloader batch (unused).
            data_samples (Sequence[dict]): packed predictions with
                ``seg_logits.data`` (1, H, W) logits and ``gt_sem_seg.data``
                (1, H, W) mask.
        """
        for data_sample in data_samples:
            logits, gt = self._get_arrays(data_sample)
            self.results.append(
                image_statistics(
                    logits,
                    gt,
                    self.decision_rule,
                    distance=self.distance,
                    matching=self.matching,
                    fa_area_dedup=self.fa_area_dedup,
                    curve_thresholds=self.curve_thresholds))

    def compute_metrics(self, results: List[dict]) -> Dict[str, object]:
        """Reduce per-image statistics to the data-set metrics.

        Args:
            results (list[dict]): one :func:`image_statistics` dict per image.

        Returns:
            dict: the metrics described in the class docstring, plus
            ``curves`` and the Pd at fixed false-alarm rates when
            ``curve_thresholds`` is set.
        """
        if not results:
            raise ValueError('IRSTDMetric.compute_metrics got no results: '
                             'the evaluation data set is empty')
        c = {k: np.array([r[k] for r in results], dtype=np.int64)
             for k in SAMPLE_FIELDS}
        iou = np.array([r['iou'] for r in results], dtype=np.float64)
        tp, fp, fn = c['tp'].sum(), c['fp'].sum(), c['fn'].sum()
        has_target = c['n_gt'] > 0
        negative = ~has_target
        num_images = len(results)
        niou_images = iou[has_target] if self.niou_empty == 'skip' else iou
        metrics = dict(
            IoU=float(_ratio(tp, tp + fp + fn)),
            nIoU=float(niou_images.mean()) if len(niou_images) else 0.0,
            Pd=float(_ratio(c['n_matched'].sum(), c['n_gt'].sum())),
            Fa=float(_ratio(c['fa_pixels'].sum(), c['pixels'].sum()) * 1e6),
            F1=float(_ratio(2 * tp, 2 * tp + fp + fn)),
            precision=float(_ratio(tp, tp + fp)),
            recall=float(_ratio(tp, tp + fn)),
            fa_objects_per_image=float(c['fa_objects'].sum() / num_images),
            num_images=num_images,
            num_target_images=int(has_target.sum()),
            num_targets=int(c['n_gt'].sum()),
            num_negative_images=int(negative.sum()),
            negative_image_fpr=float(
                _ratio(np.count_nonzero(c['n_pred'][negative]),
                       negative.sum())))
        if self.curve_thresholds is not None:
            metrics['curves'] = self._curves(results, c)
            metrics.update(pd_at_fixed_false_alarms(metrics['curves']))
            if self.curve_file is not None:
                dump_curves(metrics, self.curve_file)
        self._log_table(metrics)
        return metrics

    def _curves(self, results: List[dict], c: Dict[str, np.ndarray]) -> dict:
        """Per-threshold data-set values from the stacked (N, T, 7) counts."""
        counts = np.stack([r['curve'] for r in results]).sum(axis=0)
        k = {name: counts[:, i] for i, name in enumerate(CURVE_FIELDS)}
        tp, fp, fn = k['tp'], k['fp'], k['fn']
        pixels = c['pixels'].sum()
        tn = pixels - tp - fp - fn
        curves = dict(
            threshold=self.curve_thresholds,
            Pd=_ratio(k['n_matched'], c['n_gt'].sum()),
            Fa=_ratio(k['fa_pixels'], pixels) * 1e6,
            IoU=_ratio(tp, tp + fp + fn),
            precision=_ratio(tp, tp + fp),
            recall=_ratio(tp, tp + fn),
            F1=_ratio(2 * tp, 2 * tp + fp + fn),
            TPR=_ratio(tp, tp + fn),
            FPR=_ratio(fp, fp + tn),
            fa_objects_per_image=k['fa_objects'] / len(results))
        return {name: [float(v) for v in values]
                for name, values in curves.items()}

    def _log_table(self, metrics: dict) -> None:
        """Print the main metrics (%, Fa in 1e-6) and counts via the logger."""
        table = PrettyTable()
        percent = ('IoU', 'nIoU', 'Pd', 'F1', 'precision', 'recall')
        for name in percent:
            table.add_column(f'{name} (%)', [f'{metrics[name] * 100:.2f}'])
        table.add_column('Fa (1e-6)', [f'{metrics["Fa"]:.2f}'])
        table.add_column('FA obj/img',
                         [f'{metrics["fa_objects_per_image"]:.3f}'])
        rule = ', '.join(f'{key} {value}' for key, value in
                         self.decision_rule.to_dict().items()
                         if value is not None)
        protocol = (f'{rule}, matching {self.matching}, '
                    f'nIoU empty images: {self.niou_empty}, resolution '
                    f'{self.legacy_resize or "native"}')
        if self.fa_area_dedup:
            protocol += ', Fa area de-dup (reference bug)'
        counts = (f'images {metrics["num_images"]} (with targets '
                  f'{metrics["num_target_images"]}, negative '
                  f'{metrics["num_negative_images"]}, negative-image FPR '
                  f'{metrics["negative_image_fpr"] * 100:.2f}%), targets '
                  f'{metrics["num_targets"]}')
        lines = ['IRSTD metrics (' + protocol + '):',
                 table.get_string(), counts]
        fixed = [key for key in metrics if key.startswith('Pd@')]
        if fixed:
            at_fa = PrettyTable([f'{key} (%)' for key in fixed])
            at_fa.add_row([f'{metrics[key] * 100:.2f}' for key in fixed])
            lines += ['Pd at fixed false-alarm rates (threshold grid of '
                      f'{len(self.curve_thresholds)}):', at_fa.get_string()]
        if self.curve_file is not None:
            curve = PrettyTable(['threshold', 'Pd (%)', 'Fa (1e-6)',
                                 'IoU (%)', 'TPR (%)', 'FPR (1e-6)'])
            cv = metrics['curves']
            for i, t in enumerate(cv['threshold']):
                curve.add_row([f'{t:.3f}', f'{cv["Pd"][i] * 100:.2f}',
                               f'{cv["Fa"][i]:.2f}',
                               f'{cv["IoU"][i] * 100:.2f}',
                               f'{cv["TPR"][i] * 100:.2f}',
                               f'{cv["FPR"][i] * 1e6:.2f}'])
            lines.append(curve.get_string())
        print_log('\n'.join(lines), logger='current')
