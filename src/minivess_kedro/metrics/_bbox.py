"""Bounding boxes: work on the region that holds foreground, not on the whole volume."""

from __future__ import annotations

import numpy as np


def bounding_box(mask: np.ndarray, margin: int = 0) -> tuple[slice, ...] | None:
    """Slices of the smallest box holding every ``True`` voxel of ``mask``, grown by ``margin``.

    Args:
        mask: boolean array of shape ``(H, W, D)``.
        margin: voxels added on each side (clipped to the image).

    Returns:
        One slice per axis, or ``None`` when ``mask`` is empty.
    """
    slices = []
    for axis in range(mask.ndim):
        others = tuple(a for a in range(mask.ndim) if a != axis)
        hits = np.flatnonzero(np.any(mask, axis=others))
        if hits.size == 0:
            return None
        start = max(int(hits[0]) - margin, 0)
        stop = min(int(hits[-1]) + 1 + margin, mask.shape[axis])
        slices.append(slice(start, stop))
    return tuple(slices)
