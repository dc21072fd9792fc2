"""Import every module of the toolbox and select its registry scope."""
import warnings
from typing import Optional

from mmengine import registry as mmengine_registry
from mmengine.registry import DefaultScope


def register_all_modules(init_default_scope: bool = True, *,
                         init_default_scope_: Optional[bool] = None) -> None:
    """Register all serankdet modules in their registries.

    Modules register themselves when imported; this imports every layer
    below the apis (the apis' own modules are imported with this one).

    Args:
        init_default_scope (bool): also make ``serankdet`` the default
            scope, so ``MODELS.build`` and the Runner find our modules by
            name (mmseg's and mmdet's keyword).
        init_default_scope_ (bool, optional): the former name of
            ``init_default_scope``; deprecated, overrides it when given.
    """
    import serankdet.datasets  # noqa: F401
    import serankdet.engine  # noqa: F401
    import serankdet.evaluation  # noqa: F401
    import serankdet.models  # noqa: F401
    import serankdet.visualization  # noqa: F401
    if init_default_scope_ is not None:
        warnings.warn(
            'register_all_modules(init_default_scope_=...) is deprecated; '
            'use init_default_scope=..., as in mmseg', DeprecationWarning,
            stacklevel=2)
        init_default_scope = init_default_scope_
    if init_default_scope:
        current = DefaultScope.get_current_instance()
        if current is None or current.scope_name != 'serankdet':
            mmengine_registry.init_default_scope('serankdet')
