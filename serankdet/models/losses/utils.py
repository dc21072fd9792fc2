"""Helpers shared by the region losses."""


def region_sums(probs, target, per_sample: bool):
    """Sums of p*t, p and t over the batch or per sample (dims 1..)."""
    dims = tuple(range(1, probs.dim())) if per_sample else None
    if dims is None:
        return (probs * target).sum(), probs.sum(), target.sum()
    return ((probs * target).sum(dims), probs.sum(dims), target.sum(dims))
