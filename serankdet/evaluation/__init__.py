from .functional import (Components, DecisionRule, TargetMatch, binarize,
                         image_statistics, label_components, match_components,
                         match_targets, normalize_thresholds)
from .metrics import IRSTDMetric, dump_curves

__all__ = [
    'Components', 'DecisionRule', 'TargetMatch', 'binarize',
    'image_statistics', 'label_components', 'match_components', 'match_targets',
    'normalize_thresholds', 'IRSTDMetric', 'dump_curves'
]
