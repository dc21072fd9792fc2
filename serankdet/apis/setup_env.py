"""Import every module of the toolbox and select its registry scope."""
from mmengine.registry import DefaultScope, init_default_scope


def register_all_modules(init_default_scope_: bool = True) -> None:
    """Register all serankdet modules in their registries.

    Modules register themselves when imported; this imports every layer
    below the apis (the apis' own modules are imported with this one).

    Args:
        init_default_scope_ (bool): also make ``serankdet`` the default scope,
            so ``MODELS.build`` and the Runner find our modules by name.
    """
    import serankdet.datasets  # noqa: F401
    import serankdet.engine  # noqa: F401
    import serankdet.evaluation  # noqa: F401
    import serankdet.models  # noqa: F401
    import serankdet.visualization  # noqa: F401
    if init_default_scope_:
        current = DefaultScope.get_current_instance()
        if current is None or current.scope_name != 'serankdet':
            init_default_scope('serankdet')
