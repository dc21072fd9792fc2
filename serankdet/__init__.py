"""serankdet: an OpenMMLab 2.x toolbox for infrared small target detection.

Importing the package has no side effects; the modules register themselves
when :func:`serankdet.apis.register_all_modules` imports them (the tools and
the public apis call it).
"""
from .version import __version__

__all__ = ['__version__']
