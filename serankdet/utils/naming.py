"""Names of the files a run writes per input frame, unique within the run.

``tools/infer.py``, :class:`~serankdet.apis.IRSTDInferencer` and the test
panels of :class:`~serankdet.visualization.IRSTDVisualizationHook` name
what they write after the frame with :func:`output_names`, so that frames
sharing a file name (``dup.png`` and ``dup.tif``, or ``a/x.png`` and
``b/x.png``) never share an output file.
"""
import os
import os.path as osp
from collections import Counter
from typing import Dict, Iterable, Optional


def output_names(paths: Iterable[str],
                 root: Optional[str] = None) -> Dict[str, str]:
    """The output name of each of ``paths``: its path relative to ``root``
    without the extension, or with it where two frames would otherwise
    share a name (``dup.png`` and ``dup.tif`` are named so).

    Args:
        paths: the input files (a path given twice gets one name).
        root (str, optional): the folder the names are relative to (e.g. a
            folder given as input); default: the deepest folder holding
            every path.

    Returns:
        dict: path (as given) -> name.
    """
    paths = list(paths)
    absolute = [osp.abspath(path) for path in paths]
    if root is None:
        root = (osp.commonpath([osp.dirname(path) for path in absolute])
                if absolute else os.curdir)
    root = osp.abspath(root)
    relative = [osp.relpath(path, root) for path in absolute]
    stems = Counter(osp.splitext(rel)[0] for rel in set(relative))
    taken = set(relative)
    names = {}
    for path, rel in zip(paths, relative):
        stem = osp.splitext(rel)[0]
        names[path] = stem if stems[stem] == 1 and stem not in taken else rel
    return names
