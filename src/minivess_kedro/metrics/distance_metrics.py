"""MASD, percentile Hausdorff distance and NSD from one shared pass of border distances.

Definitions (MetricsReloaded's, see docs/metrics.md), with d(p -> R) the distance from a border
voxel p of P to the nearest border voxel of R:

* MASD = (mean_p d(p -> R) + mean_r d(r -> P)) / 2, the mean of the two directed means;
* HDq = max(q-th percentile of d(p -> R), q-th percentile of d(r -> P)), numpy's linear
  percentile of each direction (not of the pooled set);
* NSD(tau) = (#{p : d(p -> R) <= tau} + #{r : d(r -> P) <= tau}) / (|border P| + |border R|).

Empty masks: both empty gives MASD = HD = 0 and NSD = 1; exactly one empty gives MASD = HD = NaN
(replaced by the volume diagonal at aggregation) and NSD = 0.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from minivess_kedro.metrics._base import VolumeMetric
from minivess_kedro.metrics._validation import (
    DistanceUnits,
    as_binary_mask,
    check_percentile,
    check_same_shape,
    check_tolerance,
    resolve_spacing,
)
from minivess_kedro.metrics.surface_distances import SurfaceDistances, surface_distances


def _empty_case(distances: SurfaceDistances) -> str | None:
    """``"both"``, ``"one"`` or ``None`` (no empty mask)."""
    n_empty = (distances.n_border_pred == 0) + (distances.n_border_ref == 0)
    return {2: "both", 1: "one"}.get(int(n_empty))


def masd_from_distances(distances: SurfaceDistances) -> float:
    """Mean average surface distance from precomputed border distances."""
    case = _empty_case(distances)
    if case == "both":
        return 0.0
    if case == "one":
        return math.nan
    return float((np.mean(distances.pred_to_ref) + np.mean(distances.ref_to_pred)) / 2.0)


def hausdorff_from_distances(distances: SurfaceDistances, percentile: float = 95.0) -> float:
    """Percentile Hausdorff distance (larger of the two directed percentiles)."""
    percentile = check_percentile(percentile)
    case = _empty_case(distances)
    if case == "both":
        return 0.0
    if case == "one":
        return math.nan
    return float(
        max(
            np.percentile(distances.pred_to_ref, percentile),
            np.percentile(distances.ref_to_pred, percentile),
        )
    )


def nsd_from_distances(distances: SurfaceDistances, tau: float = 1.0) -> float:
    """Normalised surface distance at tolerance ``tau`` (inclusive), same units as distances."""
    tau = check_tolerance(tau, "tau")
    case = _empty_case(distances)
    if case == "both":
        return 1.0
    if case == "one":
        return 0.0
    within = np.count_nonzero(distances.pred_to_ref <= tau) + np.count_nonzero(distances.ref_to_pred <= tau)
    return float(within / (distances.n_border_pred + distances.n_border_ref))


def _distances(
    pred: np.ndarray, ref: np.ndarray, spacing: Sequence[float], distance_units: DistanceUnits
) -> SurfaceDistances:
    pred_b = as_binary_mask(pred, "pred")
    ref_b = as_binary_mask(ref, "ref")
    check_same_shape(pred_b, ref_b)
    return surface_distances(pred_b, ref_b, resolve_spacing(spacing, distance_units))


def compute_masd(
    pred: np.ndarray,
    ref: np.ndarray,
    spacing: Sequence[float],
    distance_units: DistanceUnits = "physical",
) -> float:
    """Mean average surface distance of a binary mask pair.

    Args:
        pred: binary prediction of shape ``(H, W, D)``.
        ref: binary reference of shape ``(H, W, D)``.
        spacing: voxel size per axis (NIfTI header zooms).
        distance_units: ``"physical"`` (spacing units) or ``"voxel"`` (unit spacing).

    Returns:
        MASD in the chosen units; 0 if both masks are empty, NaN if exactly one is.
    """
    return masd_from_distances(_distances(pred, ref, spacing, distance_units))


def compute_hausdorff_distance(
    pred: np.ndarray,
    ref: np.ndarray,
    spacing: Sequence[float],
    percentile: float = 95.0,
    distance_units: DistanceUnits = "physical",
) -> float:
    """Percentile Hausdorff distance (HD95 by default) of a binary mask pair.

    Args:
        pred: binary prediction of shape ``(H, W, D)``.
        ref: binary reference of shape ``(H, W, D)``.
        spacing: voxel size per axis.
        percentile: percentile in [0, 100]; 100 gives the classic Hausdorff distance.
        distance_units: ``"physical"`` or ``"voxel"``.

    Returns:
        The distance in the chosen units; 0 if both masks are empty, NaN if exactly one is.
    """
    check_percentile(percentile)
    distances = _distances(pred, ref, spacing, distance_units)
    return hausdorff_from_distances(distances, percentile)


def compute_nsd(
    pred: np.ndarray,
    ref: np.ndarray,
    spacing: Sequence[float],
    tau: float = 1.0,
    distance_units: DistanceUnits = "physical",
) -> float:
    """Normalised surface distance (surface Dice) at tolerance ``tau`` of a binary mask pair.

    Args:
        pred: binary prediction of shape ``(H, W, D)``.
        ref: binary reference of shape ``(H, W, D)``.
        spacing: voxel size per axis.
        tau: tolerance (inclusive), in the units of ``distance_units``.
        distance_units: ``"physical"`` or ``"voxel"``.

    Returns:
        NSD in [0, 1]; 1 if both masks are empty, 0 if exactly one is.
    """
    check_tolerance(tau, "tau")
    return nsd_from_distances(_distances(pred, ref, spacing, distance_units), tau)


class MASDMetric(VolumeMetric):
    """Mean average surface distance, one value per volume (see :func:`compute_masd`).

    Args:
        distance_units: ``"physical"`` or ``"voxel"``.
    """

    def __init__(self, distance_units: DistanceUnits = "physical") -> None:
        super().__init__()
        resolve_spacing((1.0, 1.0, 1.0), distance_units)  # fail on a bad unit now, not later
        self.distance_units = distance_units

    def _compute(self, pred: np.ndarray, ref: np.ndarray, spacing: Sequence[float]) -> float:
        return compute_masd(pred, ref, spacing, self.distance_units)


class HausdorffDistanceMetric(VolumeMetric):
    """Percentile Hausdorff distance per volume (see :func:`compute_hausdorff_distance`).

    Args:
        percentile: percentile in [0, 100], 95 by default.
        distance_units: ``"physical"`` or ``"voxel"``.
    """

    def __init__(self, percentile: float = 95.0, distance_units: DistanceUnits = "physical") -> None:
        super().__init__()
        resolve_spacing((1.0, 1.0, 1.0), distance_units)
        self.percentile = check_percentile(percentile)
        self.distance_units = distance_units

    def _compute(self, pred: np.ndarray, ref: np.ndarray, spacing: Sequence[float]) -> float:
        return compute_hausdorff_distance(pred, ref, spacing, self.percentile, self.distance_units)


class NSDMetric(VolumeMetric):
    """Normalised surface distance per volume (see :func:`compute_nsd`).

    Args:
        tau: tolerance (inclusive), in the units of ``distance_units``.
        distance_units: ``"physical"`` or ``"voxel"``.
    """

    def __init__(self, tau: float = 1.0, distance_units: DistanceUnits = "physical") -> None:
        super().__init__()
        resolve_spacing((1.0, 1.0, 1.0), distance_units)
        self.tau = check_tolerance(tau, "tau")
        self.distance_units = distance_units

    def _compute(self, pred: np.ndarray, ref: np.ndarray, spacing: Sequence[float]) -> float:
        return compute_nsd(pred, ref, spacing, self.tau, self.distance_units)
