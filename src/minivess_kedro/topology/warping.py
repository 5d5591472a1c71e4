"""Warping-critical voxels (Hu, NeurIPS 2022, as used in CoLeTra): the CPU part of ``warp``.

The target is warped towards the prediction, and the prediction towards the target, by flipping
simple points only; the voxels where one mask still differs from the other's warp are the
topologically critical mistakes.
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import distance_transform_edt

from .simple_points import OFFSETS, is_simple


def warp(volume: np.ndarray, candidates: np.ndarray, order: np.ndarray) -> np.ndarray:
    """Flip the simple candidate voxels of a binary volume, one at a time in increasing ``order``.

    Each candidate is visited once, in increasing ``order`` (ties in raster order), and flipped
    if it is simple in the volume as left by the flips before it. Border voxels are never flipped
    (their 3 x 3 x 3 neighbourhood leaves the volume), as in the authors' code.

    The visits are batched without changing the result: a candidate's test reads only its 26
    neighbours, so it can run as soon as every earlier candidate among them has been decided.
    Each round tests all such candidates at once (they are never adjacent to each other), a
    topological sort whose number of rounds is the longest chain of adjacent candidates, not
    the number of candidates.

    Args:
        volume: ``H x W x D`` bool.
        candidates: ``H x W x D`` bool, the voxels that may be flipped.
        order: ``H x W x D`` float, the visiting order (a distance map).

    Returns:
        The warped ``H x W x D`` bool volume (a new array).
    """
    warped = np.ascontiguousarray(volume, dtype=bool).copy()
    interior = np.zeros_like(warped)
    interior[1:-1, 1:-1, 1:-1] = True
    index = np.flatnonzero(candidates & interior)
    if index.size == 0:
        return warped
    index = index[np.argsort(order.ravel()[index], kind="stable")]
    flat = warped.reshape(-1)
    neighbour_offsets = OFFSETS @ (np.array(warped.strides, dtype=np.int64) // warped.itemsize)
    rank = np.full(flat.size, -1, dtype=np.int64)
    rank[index] = np.arange(index.size)
    neighbour_rank = rank[index[:, None] + neighbour_offsets]  # -1 where not a candidate
    own_rank = np.arange(index.size)[:, None]
    pending = ((neighbour_rank >= 0) & (neighbour_rank < own_rank)).sum(axis=1)
    later = np.where(neighbour_rank > own_rank, neighbour_rank, -1)
    ready = np.flatnonzero(pending == 0)
    while ready.size:
        voxels = index[ready]
        simple = voxels[is_simple(flat[voxels[:, None] + neighbour_offsets])]
        flat[simple] = ~flat[simple]
        successors = later[ready].ravel()
        decided = np.bincount(successors[successors >= 0], minlength=index.size)
        pending -= decided
        ready = np.flatnonzero((decided > 0) & (pending == 0))
    return warped


def critical_voxels(pred: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Critical voxels: prediction != warped target, or target != warped prediction.

    The target is warped by flipping its false negatives in increasing depth inside the target
    (distance transform of the target), then its false positives in increasing distance from the
    target (distance transform of the background); the prediction by flipping its false
    positives in increasing depth inside the prediction, then its false negatives in increasing
    distance from it. All orders come from the unwarped masks.

    Args:
        pred: ``H x W x D`` bool, the hard prediction.
        target: ``H x W x D`` bool.

    Returns:
        ``H x W x D`` bool mask of the critical voxels.
    """
    pred = np.asarray(pred, dtype=bool)
    target = np.asarray(target, dtype=bool)
    false_pos = pred & ~target
    false_neg = target & ~pred
    if not (false_pos.any() or false_neg.any()):
        return np.zeros_like(pred)
    target_warp = _warp_by_distance(target, false_neg, target)
    target_warp = _warp_by_distance(target_warp, false_pos, ~target)
    pred_warp = _warp_by_distance(pred, false_pos, pred)
    pred_warp = _warp_by_distance(pred_warp, false_neg, ~pred)
    return (pred != target_warp) | (target != pred_warp)


def _warp_by_distance(volume: np.ndarray, candidates: np.ndarray, region: np.ndarray) -> np.ndarray:
    """:func:`warp` in the order of the distance transform of ``region`` (skipped if no candidate)."""
    if not candidates.any():
        return volume
    return warp(volume, candidates, distance_transform_edt(region))
