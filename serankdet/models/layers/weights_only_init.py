"""An mmengine initializer that leaves the biases as they are."""
import torch
from mmengine.model.weight_init import update_init_info
from torch import nn

from serankdet.registry import WEIGHT_INITIALIZERS


@WEIGHT_INITIALIZERS.register_module(name='WeightsOnly')
class WeightsOnlyInit:
    """Run another initializer on the weights only; every bias keeps its
    value (PyTorch's default U(-1/sqrt(fan_in), 1/sqrt(fan_in)) of a fresh
    conv or linear layer).

    The reference codes' ``weights_init_*`` functions redraw the weights of
    their convs and linears and leave the biases at PyTorch's default;
    mmengine's initializers always set the biases too (``bias=0``). Wrapping
    one in ``WeightsOnly`` gives the reference's law::

        init_cfg=dict(type='WeightsOnly',
                      init=dict(type='Xavier', distribution='normal',
                                layer='Conv2d'))

    Args:
        init (dict): the initializer config applied to the weights, any
            mmengine (or serankdet) ``WEIGHT_INITIALIZERS`` type.
    """

    def __init__(self, init: dict):
        self.init = WEIGHT_INITIALIZERS.build(init)
        # mmengine sets this to True for ``override`` entries (the whole
        # named submodule, not only its ``layer`` types)
        self.wholemodule = False

    def __call__(self, module: nn.Module) -> None:
        biases = {name: param.detach().clone()
                  for name, param in module.named_parameters()
                  if name.rsplit('.', 1)[-1] == 'bias'}
        self.init.wholemodule = self.wholemodule
        self.init(module)
        with torch.no_grad():
            for name, param in module.named_parameters():
                if name in biases:
                    param.copy_(biases[name])
        if hasattr(module, '_params_init_info'):
            update_init_info(module, init_info=self._get_init_info())

    def _get_init_info(self) -> str:
        return (f'{self.__class__.__name__}: '
                f'{self.init._get_init_info()}, biases kept')
