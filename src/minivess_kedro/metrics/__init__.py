"""MetricsReloaded-exact segmentation metrics for 3D vessel masks, computed fast.

Per volume: DSC, clDice, MASD, HD95, NSD (MetricsReloaded's definitions, with an explicit
empty-mask policy) and Betti-number errors; per run: a table and a summary with bootstrap
confidence intervals; across runs: paired comparisons with Holm correction; during training:
foreground Dice/F1 from TorchMetrics (``minivess_kedro.metrics.monitoring``, imported lazily
so that evaluation code does not load torch).

This package never imports kedro or mlflow. See docs/metrics.md.
"""

from __future__ import annotations

import importlib
from typing import Any

from minivess_kedro.metrics._validation import DistanceUnits
from minivess_kedro.metrics.aggregation import (
    VolumePair,
    build_volume_table,
    evaluate_volumes,
    summarize_metrics,
    worst_case_values,
)
from minivess_kedro.metrics.bootstrap import (
    BOOTSTRAP_METHODS,
    bootstrap_mean_ci,
    bootstrap_paired_difference_ci,
)
from minivess_kedro.metrics.borders import border_map
from minivess_kedro.metrics.centreline import (
    CentrelineDSCMetric,
    cldice_from_skeletons,
    compute_cldice,
    skeleton,
    skeletons,
)
from minivess_kedro.metrics.distance_metrics import (
    HausdorffDistanceMetric,
    MASDMetric,
    NSDMetric,
    compute_hausdorff_distance,
    compute_masd,
    compute_nsd,
    hausdorff_from_distances,
    masd_from_distances,
    nsd_from_distances,
)
from minivess_kedro.metrics.evaluate import (
    DISTANCE_KEYS,
    METRIC_KEYS,
    evaluate_pair,
    volume_diagonal,
)
from minivess_kedro.metrics.overlap import DSCMetric, compute_dsc
from minivess_kedro.metrics.paired import holm_correction, paired_comparison
from minivess_kedro.metrics.surface_distances import SurfaceDistances, compute_surface_distances
from minivess_kedro.metrics.topology import (
    BettiErrorMetric,
    BettiNumbers,
    betti_numbers,
    compute_betti_errors,
    euler_characteristic,
)

_LAZY_MONITORING = ("ForegroundDiceF1", "foreground_dice", "foreground_f1")

__all__ = [
    "BOOTSTRAP_METHODS",
    "DISTANCE_KEYS",
    "METRIC_KEYS",
    "BettiErrorMetric",
    "BettiNumbers",
    "CentrelineDSCMetric",
    "DSCMetric",
    "DistanceUnits",
    "ForegroundDiceF1",
    "HausdorffDistanceMetric",
    "MASDMetric",
    "NSDMetric",
    "SurfaceDistances",
    "VolumePair",
    "betti_numbers",
    "bootstrap_mean_ci",
    "bootstrap_paired_difference_ci",
    "border_map",
    "build_volume_table",
    "cldice_from_skeletons",
    "compute_betti_errors",
    "compute_cldice",
    "compute_dsc",
    "compute_hausdorff_distance",
    "compute_masd",
    "compute_nsd",
    "compute_surface_distances",
    "euler_characteristic",
    "evaluate_pair",
    "evaluate_volumes",
    "foreground_dice",
    "foreground_f1",
    "hausdorff_from_distances",
    "holm_correction",
    "masd_from_distances",
    "nsd_from_distances",
    "paired_comparison",
    "skeleton",
    "skeletons",
    "summarize_metrics",
    "volume_diagonal",
    "worst_case_values",
]


def __getattr__(name: str) -> Any:
    """Import the torch-based monitoring helpers on first use only."""
    if name in _LAZY_MONITORING:
        return getattr(importlib.import_module("minivess_kedro.metrics.monitoring"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
