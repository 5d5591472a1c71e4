"""The straightforward full-volume path: one Euclidean distance transform per border map.

This is how MetricsReloaded computes border distances. It is kept as an independent oracle:
the test suite and ``bench/metrics.py`` check that :func:`surface_distances` (KD-tree on border
voxels only) returns the same values, and the benchmark measures how much faster it is.
Use :func:`minivess_kedro.metrics.compute_surface_distances` in real work.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage
from skimage.morphology import skeletonize

from minivess_kedro.metrics.borders import border_map
from minivess_kedro.metrics.surface_distances import SurfaceDistances


def edt_surface_distances(pred: np.ndarray, ref: np.ndarray, spacing: tuple[float, float, float]) -> SurfaceDistances:
    """Directed border distances from full-volume EDTs (slow reference path).

    Args:
        pred: boolean prediction of shape ``(H, W, D)``.
        ref: boolean reference of shape ``(H, W, D)``.
        spacing: voxel spacing per axis.

    Returns:
        The same :class:`SurfaceDistances` as :func:`surface_distances`.
    """
    border_pred = border_map(pred)
    border_ref = border_map(ref)
    return SurfaceDistances(
        pred_to_ref=_read_edt(border_ref, border_pred, spacing),
        ref_to_pred=_read_edt(border_pred, border_ref, spacing),
        spacing=spacing,
    )


def _read_edt(target: np.ndarray, query: np.ndarray, spacing: tuple[float, float, float]) -> np.ndarray:
    """EDT to ``target`` over the whole volume, read at the ``query`` voxels (C order)."""
    if not target.any():
        return np.full(int(query.sum()), np.inf)
    distance = ndimage.distance_transform_edt(~target, sampling=spacing)
    return distance[query]


def edt_centreline_dsc(pred: np.ndarray, ref: np.ndarray) -> float:
    """clDice with two sequential whole-volume skeletons (reference path, both masks non-empty)."""
    skel_pred = skeletonize(pred)
    skel_ref = skeletonize(ref)
    tprec = np.count_nonzero(skel_pred & ref) / np.count_nonzero(skel_pred)
    tsens = np.count_nonzero(skel_ref & pred) / np.count_nonzero(skel_ref)
    if tprec + tsens == 0:
        return 0.0
    return float(2.0 * tprec * tsens / (tprec + tsens))
