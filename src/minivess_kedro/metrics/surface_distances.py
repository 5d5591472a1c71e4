"""Directed border-to-border distances, computed only where they are needed.

The straightforward way (MetricsReloaded's) computes a Euclidean distance transform of the whole
volume for each border map and reads it at the other mask's border voxels. Only border voxels
matter, so here:

* a border voxel of P that is also a border voxel of R has distance 0 (nothing to query);
* every other border voxel of P queries a KD-tree of R's border coordinates (physical units),
  which returns its exact nearest neighbour (``scipy.spatial.cKDTree``, ``eps=0``);
* the distance is then recomputed from the integer voxel offset with the operations
  ``scipy.ndimage.distance_transform_edt`` uses, so both paths give the same floats.

One pass serves MASD, HD95 and NSD (see ``distance_metrics.py``).
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import lru_cache
from itertools import chain

import numpy as np
from scipy.spatial import cKDTree

from minivess_kedro.metrics._validation import (
    as_binary_mask,
    check_same_shape,
    resolve_spacing,
)
from minivess_kedro.metrics.borders import border_map

# Larger leaves make the build (the dominant cost) faster at a small cost per query.
_LEAFSIZE = 32
# Relative slack for "same distance" between KD-tree distances (they carry rounding errors).
_TIE_RTOL = 1.0 + 1e-9


@dataclass(frozen=True)
class SurfaceDistances:
    """Directed distances between the borders of a prediction and a reference.

    Attributes:
        pred_to_ref: shape ``(N_p,)``, d(p -> R) for every border voxel p of the prediction, in
            C (raster) order; ``+inf`` everywhere when the reference is empty.
        ref_to_pred: shape ``(N_r,)``, d(r -> P) for every border voxel r of the reference;
            ``+inf`` everywhere when the prediction is empty.
        spacing: the voxel spacing the distances were computed with (``(1, 1, 1)`` for voxel
            units).
    """

    pred_to_ref: np.ndarray
    ref_to_pred: np.ndarray
    spacing: tuple[float, float, float]

    @property
    def n_border_pred(self) -> int:
        """Number of border voxels of the prediction (0 iff the prediction is empty)."""
        return int(self.pred_to_ref.size)

    @property
    def n_border_ref(self) -> int:
        """Number of border voxels of the reference (0 iff the reference is empty)."""
        return int(self.ref_to_pred.size)


def compute_surface_distances(
    pred: np.ndarray,
    ref: np.ndarray,
    spacing: Sequence[float],
    distance_units: str = "physical",
) -> SurfaceDistances:
    """Exact directed border distances of a binary mask pair.

    Args:
        pred: binary prediction of shape ``(H, W, D)`` (bool or 0/1).
        ref: binary reference of shape ``(H, W, D)``.
        spacing: voxel size per axis, e.g. NIfTI header zooms (micrometres for MiniVess).
        distance_units: ``"physical"`` (scale by ``spacing``) or ``"voxel"`` (unit spacing).

    Returns:
        The directed distances of both borders (see :class:`SurfaceDistances`).

    Raises:
        ValueError: on non-binary, non-3D or differently shaped masks, a bad spacing or unknown
            ``distance_units``.
    """
    pred_b = as_binary_mask(pred, "pred")
    ref_b = as_binary_mask(ref, "ref")
    check_same_shape(pred_b, ref_b)
    return surface_distances(pred_b, ref_b, resolve_spacing(spacing, distance_units))


def surface_distances(pred: np.ndarray, ref: np.ndarray, spacing: tuple[float, float, float]) -> SurfaceDistances:
    """Unchecked core of :func:`compute_surface_distances` (boolean masks, checked spacing).

    Two threads: erosions and KD-tree queries release the GIL, tree construction does not.
    So the reference's tree is built while the prediction is eroded, and one direction is
    queried while the other direction's tree is built.
    """
    with ThreadPoolExecutor(max_workers=2) as pool:
        pending_border = pool.submit(border_map, pred)
        border_ref = border_map(ref)
        flat_ref = np.flatnonzero(border_ref)
        tree_ref = _BorderTree.build(flat_ref, pred.shape, spacing)
        border_pred = pending_border.result()
        flat_pred = np.flatnonzero(border_pred)
        # Border voxels shared by both borders are at distance 0: they need no query.
        todo_pred = ~border_ref.ravel()[flat_pred]
        todo_ref = ~border_pred.ravel()[flat_ref]
        del border_pred, border_ref  # peak memory stays at a few volume-sized arrays
        pending = pool.submit(tree_ref.distances, flat_pred, todo_pred)
        tree_pred = _BorderTree.build(flat_pred, pred.shape, spacing)
        ref_to_pred = tree_pred.distances(flat_ref, todo_ref)
        pred_to_ref = pending.result()
    return SurfaceDistances(pred_to_ref=pred_to_ref, ref_to_pred=ref_to_pred, spacing=spacing)


@dataclass(frozen=True)
class _BorderTree:
    """KD-tree of one mask's border voxels, in physical coordinates.

    Attributes:
        tree: the tree, or ``None`` when the mask (hence its border) is empty.
        coords: ``(M, 3)`` integer voxel coordinates of the border voxels.
        shape: image shape.
        scale: ``(3,)`` float64 spacing.
    """

    tree: cKDTree | None
    coords: np.ndarray
    shape: tuple[int, ...]
    scale: np.ndarray

    @classmethod
    def build(cls, flat: np.ndarray, shape: tuple[int, ...], spacing: tuple[float, float, float]) -> _BorderTree:
        """Tree of the border voxels with C-order flat indices ``flat`` (shape ``(M,)``)."""
        scale = np.asarray(spacing, dtype=np.float64)
        coords = np.stack(np.unravel_index(flat, shape), axis=1)
        if flat.size == 0:
            return cls(None, coords, shape, scale)
        tree = cKDTree(
            coords * scale,
            leafsize=_LEAFSIZE,
            balanced_tree=False,
            compact_nodes=False,
            copy_data=False,
        )
        return cls(tree, coords, shape, scale)

    def distances(self, query_flat: np.ndarray, todo: np.ndarray) -> np.ndarray:
        """Distance from each query voxel to the nearest border voxel of this tree.

        Args:
            query_flat: ``(N,)`` C-order flat indices of the query (border) voxels.
            todo: ``(N,)`` bool, the voxels to query; the others are border voxels of this
                mask too, at distance 0.

        Returns:
            ``(N,)`` float64 distances in C order; ``+inf`` everywhere if this mask is empty.
        """
        if self.tree is None:
            return np.full(query_flat.size, np.inf)
        dist = np.zeros(query_flat.size, dtype=np.float64)
        if not todo.any():
            return dist
        query = np.stack(np.unravel_index(query_flat[todo], self.shape), axis=1)
        dist[todo] = self._nearest(query)
        return dist

    def _nearest(self, query: np.ndarray) -> np.ndarray:
        """Exact nearest distances for ``(N, 3)`` integer query coordinates."""
        points = query * self.scale
        k = min(2, self.coords.shape[0])
        found, nearest = self.tree.query(points, k=k, workers=-1)
        if k == 1:
            return scaled_norm(query - self.coords[nearest], self.scale)
        dist = scaled_norm(query - self.coords[nearest[:, 0]], self.scale)
        # Equidistant neighbours (e.g. offsets (5, 0) and (3, 4)) can differ in the last bit
        # once scaled; the EDT keeps the smallest float, so take the minimum over all of them.
        tied = (found[:, 1] <= found[:, 0] * _TIE_RTOL) & (
            found[:, 0] * _TIE_RTOL >= _first_ambiguous_distance(tuple(self.scale.tolist()))
        )
        if tied.any():
            dist[tied] = self._smallest_of_ties(query[tied], found[tied, 0])
        return dist

    def _smallest_of_ties(self, query: np.ndarray, radius: np.ndarray) -> np.ndarray:
        """Smallest EDT-style distance among all neighbours within ``radius`` (ties)."""
        lists = self.tree.query_ball_point(query * self.scale, radius * _TIE_RTOL, workers=-1)
        counts = np.fromiter(map(len, lists), dtype=np.intp, count=len(lists))
        members = np.fromiter(chain.from_iterable(lists), dtype=np.intp, count=int(counts.sum()))
        owners = np.repeat(np.arange(len(lists)), counts)
        candidate = scaled_norm(query[owners] - self.coords[members], self.scale)
        starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
        return np.minimum.reduceat(candidate, starts)


def scaled_norm(offsets: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """Euclidean length of integer voxel offsets scaled by the spacing.

    The operations and their order match ``scipy.ndimage.distance_transform_edt`` (scale each
    axis in float64, square, add axis 0 + 1, then + 2, square root), so equal offsets give
    bit-identical distances.

    Args:
        offsets: integer array of shape ``(N, 3)``.
        scale: float64 array of shape ``(3,)``.

    Returns:
        Float64 array of shape ``(N,)``.
    """
    scaled = offsets.astype(np.float64) * scale
    np.multiply(scaled, scaled, out=scaled)
    return np.sqrt((scaled[:, 0] + scaled[:, 1]) + scaled[:, 2])


@lru_cache(maxsize=64)
def _first_ambiguous_distance(spacing: tuple[float, float, float]) -> float:
    """Smallest distance at which equidistant offsets can give different floats.

    Below it, every equidistant neighbour has the same scaled length, so the KD-tree's pick
    among ties does not matter and the (costly) tie resolution is skipped. Found by listing all
    offsets within 16 steps of the finest axis; beyond them the resolution always runs.

    Args:
        spacing: voxel spacing per axis.

    Returns:
        A distance in the units of ``spacing``.
    """
    scale = np.asarray(spacing, dtype=np.float64)
    horizon = 16 * scale.min()
    steps = [np.arange(int(np.ceil(horizon / s)) + 1) for s in scale]
    offsets = np.stack(np.meshgrid(*steps, indexing="ij"), axis=-1).reshape(-1, 3)
    lengths = scaled_norm(offsets, scale)
    order = np.argsort(lengths, kind="stable")
    lengths = lengths[order]
    # Neighbouring sorted lengths that are "equal" (within the tie slack) but not identical.
    ambiguous = (lengths[1:] <= lengths[:-1] * _TIE_RTOL) & (lengths[1:] != lengths[:-1])
    hits = np.flatnonzero(ambiguous & (lengths[1:] <= horizon))
    return float(lengths[hits[0]]) if hits.size else float(horizon)
