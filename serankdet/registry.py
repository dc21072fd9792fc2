"""Registries of the toolbox.

Every registry is a child of the matching mmseg registry (itself a child of
mmengine's root), so configs with ``default_scope='serankdet'`` find our
modules first and fall back to mmseg and mmengine ones (``RandomFlip``,
``PackSegInputs``, ``AdamW``, ``PolyLR``...). ``locations`` lets the Runner
import our modules lazily when it builds a config. ``CONVERTERS`` has no
upstream counterpart: it holds the converters of the reference
implementations' checkpoints, by ``--model`` name.
"""
from mmseg.registry import DATA_SAMPLERS as MMSEG_DATA_SAMPLERS
from mmseg.registry import DATASETS as MMSEG_DATASETS
from mmseg.registry import EVALUATOR as MMSEG_EVALUATOR
from mmseg.registry import HOOKS as MMSEG_HOOKS
from mmseg.registry import INFERENCERS as MMSEG_INFERENCERS
from mmseg.registry import LOG_PROCESSORS as MMSEG_LOG_PROCESSORS
from mmseg.registry import LOOPS as MMSEG_LOOPS
from mmseg.registry import METRICS as MMSEG_METRICS
from mmseg.registry import MODEL_WRAPPERS as MMSEG_MODEL_WRAPPERS
from mmseg.registry import MODELS as MMSEG_MODELS
from mmseg.registry import \
    OPTIM_WRAPPER_CONSTRUCTORS as MMSEG_OPTIM_WRAPPER_CONSTRUCTORS
from mmseg.registry import OPTIM_WRAPPERS as MMSEG_OPTIM_WRAPPERS
from mmseg.registry import OPTIMIZERS as MMSEG_OPTIMIZERS
from mmseg.registry import PARAM_SCHEDULERS as MMSEG_PARAM_SCHEDULERS
from mmseg.registry import RUNNERS as MMSEG_RUNNERS
from mmseg.registry import TASK_UTILS as MMSEG_TASK_UTILS
from mmseg.registry import TRANSFORMS as MMSEG_TRANSFORMS
from mmseg.registry import VISBACKENDS as MMSEG_VISBACKENDS
from mmseg.registry import VISUALIZERS as MMSEG_VISUALIZERS
from mmseg.registry import \
    WEIGHT_INITIALIZERS as MMSEG_WEIGHT_INITIALIZERS
from mmengine.registry import Registry

SCOPE = 'serankdet'

RUNNERS = Registry('runner', parent=MMSEG_RUNNERS, scope=SCOPE,
                   locations=['serankdet.engine'])
LOOPS = Registry('loop', parent=MMSEG_LOOPS, scope=SCOPE,
                 locations=['serankdet.engine'])
HOOKS = Registry('hook', parent=MMSEG_HOOKS, scope=SCOPE,
                 locations=['serankdet.engine'])
DATASETS = Registry('dataset', parent=MMSEG_DATASETS, scope=SCOPE,
                    locations=['serankdet.datasets'])
DATA_SAMPLERS = Registry('data sampler', parent=MMSEG_DATA_SAMPLERS,
                         scope=SCOPE, locations=['serankdet.datasets'])
TRANSFORMS = Registry('transform', parent=MMSEG_TRANSFORMS, scope=SCOPE,
                      locations=['serankdet.datasets.transforms'])
MODELS = Registry('model', parent=MMSEG_MODELS, scope=SCOPE,
                  locations=['serankdet.models'])
MODEL_WRAPPERS = Registry('model_wrapper', parent=MMSEG_MODEL_WRAPPERS,
                          scope=SCOPE, locations=['serankdet.engine'])
WEIGHT_INITIALIZERS = Registry(
    'weight initializer', parent=MMSEG_WEIGHT_INITIALIZERS, scope=SCOPE,
    locations=['serankdet.models'])
OPTIMIZERS = Registry('optimizer', parent=MMSEG_OPTIMIZERS, scope=SCOPE,
                      locations=['serankdet.engine'])
OPTIM_WRAPPERS = Registry('optim_wrapper', parent=MMSEG_OPTIM_WRAPPERS,
                          scope=SCOPE, locations=['serankdet.engine'])
OPTIM_WRAPPER_CONSTRUCTORS = Registry(
    'optimizer wrapper constructor', parent=MMSEG_OPTIM_WRAPPER_CONSTRUCTORS,
    scope=SCOPE, locations=['serankdet.engine'])
PARAM_SCHEDULERS = Registry(
    'parameter scheduler', parent=MMSEG_PARAM_SCHEDULERS, scope=SCOPE,
    locations=['serankdet.engine'])
METRICS = Registry('metric', parent=MMSEG_METRICS, scope=SCOPE,
                   locations=['serankdet.evaluation'])
EVALUATOR = Registry('evaluator', parent=MMSEG_EVALUATOR, scope=SCOPE,
                     locations=['serankdet.evaluation'])
TASK_UTILS = Registry('task util', parent=MMSEG_TASK_UTILS, scope=SCOPE,
                      locations=['serankdet.models'])
VISUALIZERS = Registry('visualizer', parent=MMSEG_VISUALIZERS, scope=SCOPE,
                       locations=['serankdet.visualization'])
VISBACKENDS = Registry('vis_backend', parent=MMSEG_VISBACKENDS, scope=SCOPE,
                       locations=['serankdet.visualization'])
LOG_PROCESSORS = Registry('log_processor', parent=MMSEG_LOG_PROCESSORS,
                          scope=SCOPE, locations=['serankdet.engine'])
INFERENCERS = Registry('inferencer', parent=MMSEG_INFERENCERS, scope=SCOPE,
                       locations=['serankdet.apis'])
CONVERTERS = Registry('converter', scope=SCOPE,
                      locations=['serankdet.models.converters'])
