from .bce_loss import SigmoidBCELoss
from .dice_loss import SoftDiceLoss
from .soft_iou_loss import SoftIoULoss

__all__ = ['SoftIoULoss', 'SoftDiceLoss', 'SigmoidBCELoss']
