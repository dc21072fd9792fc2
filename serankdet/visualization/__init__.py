from .irstd_visualizer import IRSTDVisualizer
from .visualization_hook import IRSTDVisualizationHook

__all__ = ['IRSTDVisualizer', 'IRSTDVisualizationHook']
