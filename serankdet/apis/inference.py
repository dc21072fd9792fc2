"""Single-image use: build a model from a config, run it on a frame."""
import os.path as osp
from typing import Optional, Union

import numpy as np
import torch
from mmengine.config import Config
from mmengine.dataset import Compose, pseudo_collate
from mmengine.runner.checkpoint import load_state_dict

from serankdet.registry import MODELS
from serankdet.utils import load_checkpoint_file
from .model_zoo import resolve_checkpoint, resolve_model
from .setup_env import register_all_modules

# Transforms that need a ground-truth mask; dropped for inference.
_ANNOTATION_TRANSFORMS = ('LoadIRSTDAnnotations', 'LoadAnnotations')


def init_model(config: Union[str, Config],
               checkpoint: Optional[str] = None,
               device: str = 'cpu',
               cfg_options: Optional[dict] = None) -> torch.nn.Module:
    """Build the model of ``config`` and load ``checkpoint`` (strictly).

    Args:
        config: config path, :class:`Config`, or the name of a shipped
            model (``model-index.yml``; then ``checkpoint`` defaults to its
            weights, checked against their SHA-256).
        checkpoint: our checkpoint (``state_dict`` inside or bare) or a
            model-zoo name; weights only, loaded without unpickling
            arbitrary objects.
        device: e.g. 'cpu', 'cuda:0'.
        cfg_options: overrides merged into the config.

    Returns:
        The model in eval mode, with the config attached as ``model.cfg``.
    """
    register_all_modules()
    if isinstance(config, str):
        config, checkpoint = resolve_model(config, checkpoint)
        if not osp.isfile(config):
            raise FileNotFoundError(f'config file "{config}" does not exist')
        config = Config.fromfile(config)
    else:
        checkpoint = resolve_checkpoint(checkpoint)
    if cfg_options:
        config.merge_from_dict(cfg_options)
    model = MODELS.build(config.model)
    if checkpoint is not None:
        state = load_checkpoint_file(checkpoint, map_location='cpu')
        state = state.get('state_dict', state)
        try:
            load_state_dict(model, state, strict=True)
        except RuntimeError as err:
            raise RuntimeError(
                f'checkpoint "{checkpoint}" does not fit the model of this '
                f'config:\n{err}') from None
    model.cfg = config
    return model.to(device).eval()


def _inference_pipeline(cfg: Config) -> Compose:
    """The test pipeline without ground-truth loading; its image loader
    reads ``img_path`` or takes the array in ``img``."""
    return Compose([dict(step) for step in cfg.test_pipeline
                    if step['type'] not in _ANNOTATION_TRANSFORMS])


@torch.no_grad()
def inference_model(model: torch.nn.Module,
                    image: Union[str, np.ndarray]):
    """Run ``model`` on one frame (a path or an (H, W[, C]) array).

    Returns:
        SegDataSample with ``seg_logits`` (1, H, W) logits at the frame's
        size and ``pred_sem_seg`` (1, H, W) binary prediction.
    """
    pipeline = _inference_pipeline(model.cfg)
    data = (dict(img=image) if isinstance(image, np.ndarray) else
            dict(img_path=image))
    batch = pseudo_collate([pipeline(data)])
    return model.test_step(batch)[0]
