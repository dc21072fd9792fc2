"""output_names: one name per input frame, unique within a run."""
import os.path as osp

from serankdet.utils import output_names


def test_names_are_stems_unless_two_frames_would_share_one(tmp_path):
    paths = [str(tmp_path / name) for name in (
        'dup.png', 'dup.tif', 'one.png', 'sub/one.png', 'x.png',
        'x.png.tif')]
    assert output_names(paths, str(tmp_path)) == dict(zip(paths, [
        'dup.png', 'dup.tif', 'one', 'sub/one', 'x', 'x.png.tif']))


def test_default_root_is_the_deepest_folder_holding_every_path(tmp_path):
    a, b = str(tmp_path / 'set' / 'a' / 'x.png'), str(tmp_path / 'set' /
                                                       'b' / 'x.png')
    assert output_names([a, b]) == {a: 'a/x', b: 'b/x'}
    assert output_names([a]) == {a: 'x'}
    # relative paths are taken from the working folder
    relative = osp.relpath(a)
    assert output_names([relative], str(tmp_path / 'set')) == {
        relative: 'a/x'}


def test_a_path_given_twice_has_one_name(tmp_path):
    path = str(tmp_path / 'f.png')
    assert output_names([path, path]) == {path: 'f'}
