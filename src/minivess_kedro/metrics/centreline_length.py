"""Centreline length: the physical length of a 3D skeleton.

The skeleton's voxels are the nodes of a graph whose edges join 26-neighbours; each edge is as
long as the physical distance between the two voxel centres (the spacing per axis). Where three
voxels are mutual neighbours (a staircase corner), the longest edge of the triangle is a shortcut
of the other two and is not counted, so a one-voxel-thick curve counts each step once. A straight
line of ``n`` voxels along an axis with spacing ``s`` is ``(n - 1) * s`` long.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np

# The 13 neighbour offsets of one half of the 26-neighbourhood: each edge is seen once.
_HALF = [o for o in itertools.product((-1, 0, 1), repeat=3) if o > (0, 0, 0)]
_ALL = [o for o in itertools.product((-1, 0, 1), repeat=3) if o != (0, 0, 0)]


def centreline_length(skeleton: np.ndarray, spacing: Sequence[float]) -> float:
    """Physical length of a skeleton.

    Args:
        skeleton: boolean ``H x W x D`` skeleton (e.g. :func:`~minivess_kedro.metrics.centreline.skeleton`
            of a mask).
        spacing: voxel size per axis (micrometres in this project): the result is in its unit.

    Returns:
        The summed length of the skeleton's edges (0.0 for an empty skeleton or a single voxel).
    """
    padded = np.pad(np.asarray(skeleton, dtype=bool), 1)
    points = np.argwhere(padded)
    if len(points) < 2:
        return 0.0
    scale = np.asarray(spacing, dtype=float)[:3]

    def length(offset) -> float:
        return float(np.linalg.norm(np.asarray(offset) * scale))

    def present(offset) -> np.ndarray:
        shifted = points + np.asarray(offset)
        return padded[shifted[:, 0], shifted[:, 1], shifted[:, 2]]

    total = 0.0
    for edge in _HALF:
        has_edge = present(edge)
        if not has_edge.any():
            continue
        shortcut = np.zeros_like(has_edge)
        for step in _ALL:
            rest = tuple(e - s for e, s in zip(edge, step, strict=True))
            if step == edge or max(map(abs, rest)) > 1 or not any(rest):
                continue
            if length(step) < length(edge) and length(rest) < length(edge):
                shortcut |= present(step)
        total += length(edge) * int(np.count_nonzero(has_edge & ~shortcut))
    return total
