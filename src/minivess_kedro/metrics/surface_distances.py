"""Directed border-to-border distances, computed only where they are needed.

The straightforward way (MetricsReloaded's) computes a Euclidean distance transform of the whole
volume for each border map and reads it at the other mask's border voxels. Only border voxels
matter, so here:

* a border voxel of P that is also a border voxel of R has distance 0 (nothing to query);
* every other border voxel of P queries KD-trees of R's border coordinates (physical units),
  which return its exact nearest neighbour (``scipy.spatial.cKDTree``, ``eps=0``);
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
    DistanceUnits,
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
    distance_units: DistanceUnits = "physical",
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

    Border voxels fall in three sets: shared by both borders (distance 0 both ways), only in
    P's border, only in R's border. A P-only voxel with an R-border voxel one step away along
    a finest axis is at exactly that step (nothing but distance 0 is closer): no query either.
    The others query KD-trees: the nearest R-border voxel of a P-only voxel is the nearer of its
    nearest R-only and its nearest shared voxel, so there is one tree per set and the shared
    voxels, usually most of the border, go into one tree instead of two.

    Erosions and KD-tree queries release the GIL, tree construction does not: the borders are
    computed in two threads, and the small trees are queried while the shared tree is built.
    """
    shape = pred.shape
    scale = np.asarray(spacing, dtype=np.float64)
    with ThreadPoolExecutor(max_workers=2) as pool:
        pending_border = pool.submit(border_map, pred)
        border_ref = border_map(ref)
        border_pred = pending_border.result()
        flat_pred = np.flatnonzero(border_pred)
        flat_ref = np.flatnonzero(border_ref)
        only_pred = ~border_ref.ravel()[flat_pred]  # in C order, like flat_pred
        only_ref = ~border_pred.ravel()[flat_ref]
        pred_side = _PointTree.build(flat_pred[only_pred], shape, scale)
        ref_side = _PointTree.build(flat_ref[only_ref], shape, scale)
        pred_search = _NearestSearch(pred_side.coords, _one_step_away(pred_side.coords, border_ref, scale), scale)
        ref_search = _NearestSearch(ref_side.coords, _one_step_away(ref_side.coords, border_pred, scale), scale)
        del border_pred, border_ref  # peak memory stays at a few volume-sized arrays

        def search_small_trees() -> None:
            pred_search.add(ref_side)
            ref_search.add(pred_side)

        pending = pool.submit(search_small_trees)
        shared = _PointTree.build(flat_pred[~only_pred], shape, scale)
        pending.result()
        pending = pool.submit(pred_search.add, shared)
        ref_search.add(shared)
        pending.result()
        pending = pool.submit(pred_search.finish, (ref_side, shared))
        ref_to_pred = _assemble(only_ref, ref_search.finish((pred_side, shared)), flat_pred.size)
        pred_to_ref = _assemble(only_pred, pending.result(), flat_ref.size)
    return SurfaceDistances(pred_to_ref=pred_to_ref, ref_to_pred=ref_to_pred, spacing=spacing)


def _assemble(todo: np.ndarray, found: np.ndarray, n_target: int) -> np.ndarray:
    """Directed distances of all border voxels: 0 where shared, ``found`` where ``todo``.

    Args:
        todo: ``(N,)`` bool in C order, border voxels not on the other border.
        found: ``(todo.sum(),)`` their distances.
        n_target: number of border voxels of the other mask (0: all distances are ``inf``).
    """
    if n_target == 0:
        return np.full(todo.size, np.inf)
    dist = np.zeros(todo.size, dtype=np.float64)
    dist[todo] = found
    return dist


def _one_step_away(coords: np.ndarray, target: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """Which voxels have a ``target`` voxel one step away along an axis of finest spacing.

    Args:
        coords: ``(N, 3)`` integer voxel coordinates (none of them in ``target``).
        target: boolean volume of shape ``(H, W, D)``.
        scale: ``(3,)`` spacing.

    Returns:
        ``(N,)`` bool.
    """
    hit = np.zeros(len(coords), dtype=bool)
    flat_target = target.ravel()
    stride = np.array(target.strides) // target.itemsize
    flat = coords @ stride
    for axis in np.flatnonzero(scale == scale.min()):
        for step in (-1, 1):
            moved = coords[:, axis] + step
            inside = (moved >= 0) & (moved < target.shape[axis])
            hit[inside] |= flat_target[flat[inside] + step * stride[axis]]
    return hit


@dataclass(frozen=True)
class _PointTree:
    """Integer voxel coordinates ``(M, 3)`` and their KD-tree in physical units (``None`` if M = 0)."""

    coords: np.ndarray
    tree: cKDTree | None

    @classmethod
    def build(cls, flat: np.ndarray, shape: tuple[int, ...], scale: np.ndarray) -> _PointTree:
        """Tree of the voxels with C-order flat indices ``flat`` (shape ``(M,)``)."""
        coords = np.stack(np.unravel_index(flat, shape), axis=1)
        if coords.shape[0] == 0:
            return cls(coords, None)
        # Unbalanced trees without compacted nodes build fastest; the build dominates the cost.
        tree = cKDTree(coords * scale, leafsize=_LEAFSIZE, balanced_tree=False, compact_nodes=False, copy_data=False)
        return cls(coords, tree)


class _NearestSearch:
    """Exact nearest distance from query voxels to a union of trees, one tree at a time.

    Each tree gives its two nearest points, searched only as far as the best distance so far;
    the overall nearest is exact and its distance is recomputed EDT-style. :meth:`finish`
    settles ties: where the two nearest candidates are equally far (within rounding), every
    equidistant point is gathered and the smallest float kept, as the EDT keeps it (offsets
    (5, 0) and (3, 4) are equal in reals but not once scaled by 0.7).

    Args:
        coords: ``(N, 3)`` integer coordinates of the query voxels.
        one_step: ``(N,)`` bool, voxels one finest step from the target (answered directly).
        scale: ``(3,)`` spacing.
    """

    def __init__(self, coords: np.ndarray, one_step: np.ndarray, scale: np.ndarray) -> None:
        self.scale = scale
        self.one_step = one_step
        self.query = coords[~one_step]
        self.points = self.query * scale
        self.best = np.full(len(self.query), np.inf)  # KD-tree distance of the nearest candidate
        self.second = np.full(len(self.query), np.inf)  # ... and of the runner-up
        self.dist = np.full(len(self.query), np.inf)  # EDT-style distance of the nearest

    def add(self, target: _PointTree) -> None:
        """Take the points of ``target`` into account."""
        if target.tree is None or not len(self.query):
            return
        found, index = _query_within(target, self.points, self.best, float(self.scale.min()))
        closer = found[:, 0] < self.best
        self.second = np.where(closer, np.minimum(self.best, found[:, 1]), np.minimum(self.second, found[:, 0]))
        self.best = np.where(closer, found[:, 0], self.best)
        nearest = target.coords[np.minimum(index[:, 0], target.coords.shape[0] - 1)]
        self.dist = np.where(closer, scaled_norm(self.query - nearest, self.scale), self.dist)

    def finish(self, targets: Sequence[_PointTree]) -> np.ndarray:
        """Distances of all query voxels (``(N,)``) once every tree of ``targets`` was added."""
        threshold = _first_ambiguous_distance(tuple(self.scale.tolist()))
        tied = (self.second <= self.best * _TIE_RTOL) & (self.best * _TIE_RTOL >= threshold)
        if tied.any():
            present = [t for t in targets if t.tree is not None]
            self.dist[tied] = _smallest_of_ties(self.query[tied], self.best[tied] * _TIE_RTOL, present, self.scale)
        step = np.zeros((1, 3), dtype=np.int64)
        step[0, int(np.argmin(self.scale))] = 1
        out = np.full(self.one_step.size, scaled_norm(step, self.scale)[0])
        out[~self.one_step] = self.dist
        return out


def _query_within(
    target: _PointTree, points: np.ndarray, bound: np.ndarray, unit: float
) -> tuple[np.ndarray, np.ndarray]:
    """Two nearest neighbours of each point, searched only up to (about) its ``bound``.

    A KD-tree search costs more the farther the nearest neighbour is, and a later tree only
    matters where it beats the earlier ones' distance. ``cKDTree.query`` takes one scalar
    bound, so points are grouped by bound rounded up on a sqrt(2) grid (a few dozen groups).

    Returns:
        ``(N, 2)`` distances (``inf`` where nothing lies within the bound) and indices (equal to
        the number of tree points there).
    """
    k = min(2, target.coords.shape[0])
    found = np.full((len(points), 2), np.inf)
    index = np.full((len(points), 2), target.coords.shape[0], dtype=np.intp)
    finite = np.isfinite(bound)
    level = np.full(len(points), np.iinfo(np.int64).max)
    level[finite] = np.ceil(2 * np.log2(np.maximum(bound[finite], unit) / unit)).astype(np.int64)
    for value in np.unique(level):
        rows = np.flatnonzero(level == value)
        limit = np.inf if value == np.iinfo(np.int64).max else unit * 2 ** (value / 2) * (1 + 1e-6)
        d, i = target.tree.query(points[rows], k=k, distance_upper_bound=limit, workers=-1)
        found[rows, :k] = d.reshape(len(rows), k)
        index[rows, :k] = i.reshape(len(rows), k)
    return found, index


def _smallest_of_ties(
    query: np.ndarray, radius: np.ndarray, targets: Sequence[_PointTree], scale: np.ndarray
) -> np.ndarray:
    """Smallest EDT-style distance among all target points within ``radius`` of each query."""
    smallest = np.full(len(query), np.inf)
    for target in targets:
        lists = target.tree.query_ball_point(query * scale, radius, workers=-1)
        counts = np.fromiter(map(len, lists), dtype=np.intp, count=len(lists))
        if not counts.any():
            continue
        members = np.fromiter(chain.from_iterable(lists), dtype=np.intp, count=int(counts.sum()))
        owners = np.repeat(np.arange(len(lists)), counts)
        candidate = scaled_norm(query[owners] - target.coords[members], scale)
        np.minimum.at(smallest, owners, candidate)
    return smallest


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
