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

    Each candidate is tested against the volume as left by the flips before it. Ties in ``order``
    are broken by the parity sub-field ``(x mod 2, y mod 2, z mod 2)`` and then by raster index:
    voxels of one sub-field are never 26-adjacent, so every group of equal (order, sub-field) is
    tested and flipped at once with the same result as one at a time. Border voxels are never
    flipped (their 3 x 3 x 3 neighbourhood leaves the volume), as in the authors' code.

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
    coords = np.unravel_index(index, warped.shape)
    subfield = (coords[0] % 2) * 4 + (coords[1] % 2) * 2 + coords[2] % 2
    key = order.ravel()[index]
    sort = np.lexsort((index, subfield, key))
    index, subfield, key = index[sort], subfield[sort], key[sort]
    starts = np.flatnonzero(np.r_[True, (np.diff(key) != 0) | (np.diff(subfield) != 0)])
    flat = warped.reshape(-1)
    strides = np.array(warped.strides, dtype=np.int64) // warped.itemsize
    neighbour_offsets = OFFSETS @ strides
    for group in np.split(index, starts[1:]):
        simple = group[is_simple(flat[group[:, None] + neighbour_offsets])]
        flat[simple] = ~flat[simple]
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
    target_warp = warp(target, false_neg, distance_transform_edt(target))
    target_warp = warp(target_warp, false_pos, distance_transform_edt(~target))
    pred_warp = warp(pred, false_pos, distance_transform_edt(pred))
    pred_warp = warp(pred_warp, false_neg, distance_transform_edt(~pred))
    return (pred != target_warp) | (target != pred_warp)
