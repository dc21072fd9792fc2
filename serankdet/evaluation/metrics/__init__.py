from .irstd_metric import IRSTDMetric, dump_curves

__all__ = ['IRSTDMetric', 'dump_curves']
