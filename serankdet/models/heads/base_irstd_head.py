"""Base class of IRSTD heads: a list of logit maps, main prediction first."""
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
import torch.nn.functional as F
from mmengine.model import BaseModule
from torch import Tensor

from serankdet.evaluation.functional import DecisionRule
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
        min_area (int): predicted components smaller than this (pixels)
            are dropped (0: none).
        max_area (int, optional): predicted components larger than this
            (pixels) are dropped.
        seed_threshold (float, optional): hysteresis: a predicted component
            is kept only when its peak probability exceeds this.
        align_corners (bool): for resizing logits to the label size.

    ``threshold``, ``min_area``, ``max_area`` and ``seed_threshold`` make
    the model's :attr:`decision_rule`, the one rule from logits to masks
    that predictions, the metric, the inferencer and the panels apply.
    """

    def __init__(self,
                 loss_decode: Union[dict, List[dict]] = dict(
                     type='SoftIoULoss'),
                 output_weights: Optional[Sequence[float]] = None,
                 threshold: float = 0.5,
                 min_area: int = 0,
                 max_area: Optional[int] = None,
                 seed_threshold: Optional[float] = None,
                 align_corners: bool = False,
                 init_cfg=None):
        super().__init__(init_cfg)
        #: the model's decision rule (:class:`DecisionRule`)
        self.decision_rule = DecisionRule(threshold, min_area, max_area,
                                          seed_threshold)
        if isinstance(loss_decode, dict):
            loss_decode = [loss_decode]
        self.loss_decode = torch.nn.ModuleList(
            MODELS.build(cfg) for cfg in loss_decode)
        self.output_weights = (None if output_weights is None else
                               [float(w) for w in output_weights])
        self.align_corners = align_corners

    @property
    def threshold(self) -> float:
        """The probability threshold of :attr:`decision_rule`."""
        return self.decision_rule.threshold

    def forward(self, feats) -> List[Tensor]:
        raise NotImplementedError

    def loss_weights(self, num_outputs: int) -> List[float]:
        """Weight of each of ``num_outputs`` outputs in the loss:
        ``output_weights``, or 1 for every output."""
        weights = self.output_weights or [1.0] * num_outputs
        if len(weights) != num_outputs:
            raise ValueError(
                f'{type(self).__name__}: output_weights has {len(weights)} '
                f'values but the head returns {num_outputs} outputs')
        return weights

    def resize(self, logits: Tensor, size: Sequence[int]) -> Tensor:
        """``logits`` (B, 1, h, w) resized bilinearly (``align_corners``) to
        ``size``, or as they are when they have that size."""
        if tuple(logits.shape[-2:]) == tuple(size):
            return logits
        return F.interpolate(logits, size, mode='bilinear',
                             align_corners=self.align_corners)

    def match_target(self, logits: Tensor,
                     target: Tensor) -> Tuple[Tensor, Tensor]:
        """``logits`` resized to the size of ``target``, and ``target``."""
        return self.resize(logits, target.shape[-2:]), target

    def loss_by_outputs(self, outputs: List[Tensor],
                        target: Tensor) -> Dict[str, Tensor]:
        """Weighted losses (:meth:`loss_weights`) of every output against
        ``target`` (B,1,H,W), brought to one size by :meth:`match_target`.

        Keys: ``loss_<name>`` for the main output, ``aux<i>_loss_<name>``
        for the i-th deep-supervision output.
        """
        losses = {}
        for index, (logits, weight) in enumerate(
                zip(outputs, self.loss_weights(len(outputs)))):
            if weight == 0:
                continue
            logits, scaled_target = self.match_target(logits, target)
            prefix = '' if index == 0 else f'aux{index}_'
            for loss_fn in self.loss_decode:
                name = f'{prefix}{loss_fn.loss_name}'
                value = weight * loss_fn(logits, scaled_target)
                losses[name] = losses.get(name, 0) + value
        return losses
