"""Base class of IRSTD heads: a list of logit maps, main prediction first."""
from typing import Dict, List, Optional, Sequence, Union

import torch
import torch.nn.functional as F
from mmengine.model import BaseModule
from torch import Tensor

from serankdet.registry import MODELS


class BaseIRSTDHead(BaseModule):
    """Common loss and prediction logic of binary IRSTD heads.

    Subclasses implement :meth:`forward`, which maps the (neck or backbone)
    features to a list of logit maps ``[main, aux_1, ..., aux_n]``, each
    (B, 1, h, w), before any sigmoid. Deep supervision is the list's tail.

    Args:
        loss_decode (dict | list[dict]): losses applied to every output; each
            takes ``(logits (B,1,H,W), target (B,1,H,W) float)``.
        output_weights (Sequence[float], optional): weight of each output in
            the loss (main first). Default: 1 for every output.
        threshold (float): probability in (0, 1) above which a pixel is
            target.
        align_corners (bool): for resizing logits to the label size.
    """

    def __init__(self,
                 loss_decode: Union[dict, List[dict]] = dict(
                     type='SoftIoULoss'),
                 output_weights: Optional[Sequence[float]] = None,
                 threshold: float = 0.5,
                 align_corners: bool = False,
                 init_cfg=None):
        super().__init__(init_cfg)
        if not (isinstance(threshold, (int, float))
                and 0.0 < threshold < 1.0):
            raise ValueError(f'decode_head.threshold is a probability in '
                             f'(0, 1), got {threshold!r}')
        if isinstance(loss_decode, dict):
            loss_decode = [loss_decode]
        self.loss_decode = torch.nn.ModuleList(
            MODELS.build(cfg) for cfg in loss_decode)
        self.output_weights = (None if output_weights is None else
                               [float(w) for w in output_weights])
        self.threshold = threshold
        self.align_corners = align_corners

    def forward(self, feats) -> List[Tensor]:
        raise NotImplementedError

    def loss_by_outputs(self, outputs: List[Tensor],
                        target: Tensor) -> Dict[str, Tensor]:
        """Weighted losses of every output against ``target`` (B,1,H,W).

        Outputs whose size differs from the target are resized bilinearly.
        Keys: ``loss_<name>`` for the main output, ``aux<i>_loss_<name>``
        for the i-th deep-supervision output.
        """
        weights = self.output_weights or [1.0] * len(outputs)
        if len(weights) != len(outputs):
            raise ValueError(
                f'{type(self).__name__}: output_weights has {len(weights)} '
                f'values but the head returns {len(outputs)} outputs')
        losses = {}
        for index, (logits, weight) in enumerate(zip(outputs, weights)):
            if weight == 0:
                continue
            if logits.shape[-2:] != target.shape[-2:]:
                logits = F.interpolate(logits, target.shape[-2:],
                                       mode='bilinear',
                                       align_corners=self.align_corners)
            prefix = '' if index == 0 else f'aux{index}_'
            for loss_fn in self.loss_decode:
                name = f'{prefix}{loss_fn.loss_name}'
                value = weight * loss_fn(logits, target)
                losses[name] = losses.get(name, 0) + value
        return losses
