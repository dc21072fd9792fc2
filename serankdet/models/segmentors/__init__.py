from .irstd_segmentor import IRSTDSegmentor

__all__ = ['IRSTDSegmentor']
