"""All per-volume metrics of one prediction/reference pair, in one call.

The two skeletons and the two topologies run in worker threads (scikit-image's thinning and
scipy's labelling release the GIL) while the main thread computes the border distances, which
are shared by MASD, HD95 and NSD.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from minivess_kedro.metrics._validation import (
    DistanceUnits,
    as_binary_mask,
    check_same_shape,
    check_tolerance,
    resolve_spacing,
)
from minivess_kedro.metrics.centreline import cldice_from_skeletons, skeleton
from minivess_kedro.metrics.distance_metrics import (
    hausdorff_from_distances,
    masd_from_distances,
    nsd_from_distances,
)
from minivess_kedro.metrics.overlap import dsc_of_masks
from minivess_kedro.metrics.surface_distances import surface_distances
from minivess_kedro.metrics.topology import betti_error_table, betti_numbers

#: The metrics every evaluation reports, in report order.
METRIC_KEYS: tuple[str, ...] = (
    "dsc",
    "cldice",
    "masd",
    "hd95",
    "nsd",
    "betti0_error",
    "betti1_error",
)
#: Metrics that are distances (NaN when exactly one mask is empty).
DISTANCE_KEYS: tuple[str, ...] = ("masd", "hd95")


def volume_diagonal(shape: Sequence[int], spacing: Sequence[float]) -> float:
    """Largest distance between two voxel centres of the volume (the worst-case distance).

    Args:
        shape: image shape ``(H, W, D)``.
        spacing: spacing used for distances (``(1, 1, 1)`` for voxel units).
    """
    return float(math.sqrt(sum(((n - 1) * s) ** 2 for n, s in zip(shape, spacing, strict=True))))


def evaluate_pair(
    pred: np.ndarray,
    ref: np.ndarray,
    spacing: Sequence[float],
    nsd_tau: float = 1.0,
    distance_units: DistanceUnits = "physical",
) -> dict[str, Any]:
    """Every per-volume metric of a binary prediction/reference pair.

    Args:
        pred: binary prediction of shape ``(H, W, D)`` (bool or 0/1 of any numeric dtype).
        ref: binary reference of shape ``(H, W, D)``.
        spacing: voxel size per axis from the NIfTI header (micrometres for MiniVess).
        nsd_tau: NSD tolerance (inclusive), in the units of ``distance_units``.
        distance_units: ``"physical"`` (distances scaled by ``spacing``) or ``"voxel"``
            (unit spacing, for comparison with studies that ignored spacing).

    Returns:
        A flat dict: ``dsc``, ``cldice`` (also as ``centreline_dsc``, MetricsReloaded's name),
        ``masd``, ``hd95``, ``nsd``, ``betti0_error``, ``betti1_error``; the Betti numbers and
        component counts of each mask; ``n_border_pred``/``n_border_ref``,
        ``n_fg_pred``/``n_fg_ref``; ``diagonal`` (worst-case distance, used to replace NaN
        distances at aggregation); ``distance_units``, ``nsd_tau`` and ``seconds``.
        Distances of a pair with exactly one empty mask are NaN (see docs/metrics.md).

    Raises:
        ValueError: on a shape mismatch, non-binary or non-3D input, a non-positive spacing,
            a negative ``nsd_tau`` or unknown ``distance_units``; before any work is done.
    """
    start = time.perf_counter()
    pred_b = as_binary_mask(pred, "pred")
    ref_b = as_binary_mask(ref, "ref")
    check_same_shape(pred_b, ref_b)
    used_spacing = resolve_spacing(spacing, distance_units)
    tau = check_tolerance(nsd_tau)

    with ThreadPoolExecutor(max_workers=2) as pool:
        skel_pred = pool.submit(skeleton, pred_b)
        skel_ref = pool.submit(skeleton, ref_b)
        topo_pred = pool.submit(betti_numbers, pred_b)
        topo_ref = pool.submit(betti_numbers, ref_b)
        distances = surface_distances(pred_b, ref_b, used_spacing)
        dsc = dsc_of_masks(pred_b, ref_b)
        cldice = cldice_from_skeletons(pred_b, ref_b, skel_pred.result(), skel_ref.result())
        topology = betti_error_table(topo_pred.result(), topo_ref.result())

    return {
        "dsc": dsc,
        "cldice": cldice,
        "centreline_dsc": cldice,
        "masd": masd_from_distances(distances),
        "hd95": hausdorff_from_distances(distances, 95.0),
        "nsd": nsd_from_distances(distances, tau),
        **topology,
        "n_border_pred": distances.n_border_pred,
        "n_border_ref": distances.n_border_ref,
        "n_fg_pred": int(np.count_nonzero(pred_b)),
        "n_fg_ref": int(np.count_nonzero(ref_b)),
        "diagonal": volume_diagonal(pred_b.shape, used_spacing),
        "distance_units": distance_units,
        "nsd_tau": tau,
        "seconds": time.perf_counter() - start,
    }
