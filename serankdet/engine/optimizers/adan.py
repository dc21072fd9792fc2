"""Adan (Xie et al., 2022) from the ``pytorch-optimizer`` package.

Config: ``optimizer=dict(type='Adan', lr=1e-2, betas=(0.98, 0.92, 0.99),
weight_decay=1e-4)``. With the default ``weight_decouple=False`` the decay
is the official one (``no_prox=False``): p <- (p - lr * update) /
(1 + lr * weight_decay). The previous gradient starts equal to the first
gradient, so the first step's gradient difference is 0, as in the official
implementation. Parameters without gradient (a frozen trunk) are skipped.
"""
from pytorch_optimizer import Adan

from serankdet.registry import OPTIMIZERS

OPTIMIZERS.register_module(module=Adan)
