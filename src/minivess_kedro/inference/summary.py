"""What a segmented volume is: its vessel fraction, centreline length, topology and the vessel
measurements labs report (one row of ``summary.csv``)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from minivess_kedro.metrics.topology import betti_numbers
from minivess_kedro.morphometry import MEASURE_COLUMNS, VesselAnalysis, analyse_vessels

# The columns of summary.csv, in order (docs/using_the_model.md explains each).
SUMMARY_COLUMNS = [
    "id",
    "source_file",
    "size_h",
    "size_w",
    "size_d",
    "spacing_h_um",
    "spacing_w_um",
    "spacing_d_um",
    "header_unit",
    "vessel_fraction",
    "betti_0",
    "betti_1",
    *MEASURE_COLUMNS,
    "postprocessing",
    "model_name",
    "model_version",
    "model_run_id",
    "model_uri",
    "status",
    "error",
    "seconds",
]
STATUSES = ("done", "skipped", "failed")
_COUNTS = ("size_h", "size_w", "size_d", "betti_0", "betti_1", "branch_points", "end_points", "segments")


def summary_table(rows: Sequence[dict]) -> pd.DataFrame:
    """The rows as ``summary.csv``'s table: :data:`SUMMARY_COLUMNS`, counts as integers (empty
    for a failed volume, not ``24.0``)."""
    table = pd.DataFrame(list(rows), columns=SUMMARY_COLUMNS)
    return table.astype({column: "Int64" for column in _COUNTS})


def mask_summary(
    mask: np.ndarray, spacing: Sequence[float], vessels: VesselAnalysis | None = None
) -> dict[str, float | int]:
    """Measures a vessel mask.

    Args:
        mask: ``H x W x D`` binary mask (any integer or boolean dtype; non-zero is vessel).
        spacing: voxel size per axis in micrometres.
        vessels: the mask's :func:`~minivess_kedro.morphometry.analyse_vessels`, when the caller
            already has it (its skeleton is the costly part); computed here otherwise.

    Returns:
        ``size_h/w/d`` (voxels), ``spacing_h/w/d_um``, ``vessel_fraction`` (vessel voxels / all
        voxels), ``betti_0``
        (26-connected components), ``betti_1`` (independent loops) and the vessel measurements of
        :func:`~minivess_kedro.morphometry.vessel_measures` (length density, diameters, branch
        and end points, segments, tortuosity; ``total_length_um`` is the centreline's length).
    """
    binary = np.asarray(mask) != 0
    betti = betti_numbers(binary)
    return {
        **dict(zip(("size_h", "size_w", "size_d"), (int(n) for n in binary.shape), strict=True)),
        **dict(zip(("spacing_h_um", "spacing_w_um", "spacing_d_um"), (float(s) for s in spacing), strict=True)),
        "vessel_fraction": float(binary.mean()) if binary.size else 0.0,
        "betti_0": betti.b0,
        "betti_1": betti.b1,
        **(vessels or analyse_vessels(binary, spacing)).measures,
    }
