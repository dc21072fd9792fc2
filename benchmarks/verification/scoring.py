"""Scoring trained models the same way for both sides: probability maps
scored by ``IRSTDMetric`` at threshold 0.5 and per-image max, each side's
predictions at native size."""
from typing import Callable, Iterable, Optional, Tuple

import torch
import torch.nn.functional as F

from .official_data import OfficialData
from .official_models import SIZE_MULTIPLE
from .settings import ParitySpec, reference_name


SCORINGS = ('threshold_0.5', 'per_image_max')


REPORTED = ('IoU', 'nIoU', 'Pd', 'Fa', 'precision', 'recall')


def _sample(probability: torch.Tensor, gt: torch.Tensor) -> dict:
    """An ``IRSTDMetric`` data sample from a (H, W) probability map."""
    logits = torch.logit(probability.double().clamp(0, 1))
    return dict(seg_logits=dict(data=logits[None]),
                gt_sem_seg=dict(data=gt.long()[None]))


def score(predictions: Iterable[Tuple[torch.Tensor, torch.Tensor]]) -> dict:
    """Score (probability (H, W), mask (H, W)) pairs by both rules.

    ``per_image_max`` divides each map by its maximum first, as DATransNet's
    ``evaluation/pd_fa.py`` does (a map that is all zero predicts nothing).
    """
    from serankdet.evaluation import IRSTDMetric
    metrics = {name: IRSTDMetric() for name in SCORINGS}
    for probability, gt in predictions:
        metrics['threshold_0.5'].process(None, [_sample(probability, gt)])
        peak = probability.max()
        relative = probability / peak if peak > 0 else probability
        metrics['per_image_max'].process(None, [_sample(relative, gt)])
    result = {}
    for name, metric in metrics.items():
        values = metric.compute_metrics(metric.results)
        result[name] = {key: float(values[key]) for key in REPORTED}
        result[name]['num_images'] = int(values['num_images'])
    return result


def predict_padded(forward_eval: Callable, img: torch.Tensor,
                   multiple: int) -> torch.Tensor:
    """(H, W) probability of a (1, C, H, W) input zero-padded bottom/right
    to a multiple of ``multiple`` (as our data preprocessor pads), cropped
    back."""
    height, width = img.shape[-2:]
    padded = F.pad(img, (0, -width % multiple, 0, -height % multiple))
    return forward_eval(padded)[0, 0, :height, :width]


def official_predictions(model_name: str, spec: ParitySpec, reference,
                         data: OfficialData, test_set
                         ) -> Iterable[Tuple[torch.Tensor, torch.Tensor]]:
    """(probability (H, W), mask (H, W) bool) of every official test item,
    through the official network's eval forward at native size."""
    multiple = SIZE_MULTIPLE[reference_name(model_name, spec)]
    with torch.no_grad():
        for index in range(len(test_set)):
            img, mask = data.test_item(test_set, index)
            out = predict_padded(reference.forward_eval, img, multiple)
            yield out.sigmoid() if spec.official_logits else out, mask


def our_predictions(config: str, checkpoint: str, data_root: str,
                    limit_test: Optional[int]
                    ) -> Iterable[Tuple[torch.Tensor, torch.Tensor]]:
    """(probability (H, W), mask (H, W) bool) of every test frame of
    ``config``'s test set (the first ``limit_test`` ones when given),
    through our test pipeline and ``test_step``."""
    from mmengine.runner import Runner

    from serankdet.apis import init_model
    test_options = {'test_dataloader.dataset.data_root': data_root}
    if limit_test:
        test_options['test_dataloader.dataset.indices'] = limit_test
    model = init_model(config, checkpoint, cfg_options=test_options)
    loader = Runner.build_dataloader(model.cfg.test_dataloader)
    with torch.no_grad():
        for batch in loader:
            for sample in model.test_step(batch):
                yield (sample.seg_logits.data[0].sigmoid(),
                       sample.gt_sem_seg.data[0] > 0)


def probe_scores(probability: torch.Tensor, masks) -> dict:
    """Scores of the probe frames' main-output probabilities (N, H, W) at
    threshold 0.5 and per-image max, the share of pixels above 0.5 and the
    mean per-image maximum probability."""
    probability = probability.double()
    scores = score(zip(probability, (m > 0 for m in masks)))
    return dict(scores=scores, probability=probability,
                positive_share=float((probability > 0.5).double().mean()),
                mean_max=float(probability.flatten(1).max(1).values.mean()))
