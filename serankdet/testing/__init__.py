"""Helpers that the tests and the benchmarks share (as ``mmdet.testing``):
nothing of the toolbox itself imports them."""
