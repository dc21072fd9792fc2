from .inference import inference_model, init_model
from .inferencer import FrameResult, IRSTDInferencer, Target
from .setup_env import register_all_modules

__all__ = ['init_model', 'inference_model', 'IRSTDInferencer', 'FrameResult',
           'Target', 'register_all_modules']
