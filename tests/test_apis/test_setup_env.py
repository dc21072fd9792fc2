"""register_all_modules: mmseg's keyword selects the default scope."""
import pytest
from mmengine.registry import DefaultScope

from serankdet.apis import register_all_modules


def _scope():
    return DefaultScope.get_current_instance().scope_name


@pytest.mark.parametrize('kwargs, scope', [
    (dict(), 'serankdet'),
    (dict(init_default_scope=True), 'serankdet'),
    (dict(init_default_scope=False), 'mmseg'),
])
def test_init_default_scope_keyword(kwargs, scope):
    register_all_modules()
    with DefaultScope.overwrite_default_scope('mmseg'):
        register_all_modules(**kwargs)
        assert _scope() == scope
    register_all_modules()
    assert _scope() == 'serankdet'


@pytest.mark.parametrize('value, scope', [(True, 'serankdet'),
                                          (False, 'mmseg')])
def test_former_keyword_still_works_with_a_warning(value, scope):
    with DefaultScope.overwrite_default_scope('mmseg'):
        with pytest.warns(DeprecationWarning, match='init_default_scope='):
            register_all_modules(init_default_scope=not value,
                                 init_default_scope_=value)
        assert _scope() == scope
