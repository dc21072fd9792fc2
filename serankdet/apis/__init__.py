from .inference import inference_model, init_model
from .inferencer import FrameResult, IRSTDInferencer, Target

__all__ = ['init_model', 'inference_model', 'IRSTDInferencer', 'FrameResult',
           'Target']
