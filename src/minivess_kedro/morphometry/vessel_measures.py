"""Vessel measurements from the skeleton graph of a mask (skan), in micrometres.

The mask's 3D skeleton (Lee's thinning, :func:`~minivess_kedro.metrics.centreline.skeleton`) is
turned into a graph by skan: nodes are the end points and branch points, segments the paths
between them. What labs report (VesselVio, PyVaNe):

- total length: the summed length of every segment, in µm: the path through its centreline voxels
  smoothed by a 3-voxel moving average (the raw voxel steps of a curve or an oblique vessel
  overstate its length by up to 12 %, smoothed by under 1 % on a helix and a diagonal, tested);
- length density: total length (mm) per imaged volume (mm³), the whole field of view;
- diameters: twice the distance from each centreline voxel to the nearest background voxel
  (scipy's Euclidean distance transform with the voxel spacing), their mean and median. That
  distance reaches the centre of the first background voxel, half a voxel past the wall, so thin
  vessels read wide: +3 % at 8 voxels across, about +10 % at 4, +77 % for a 1-voxel capillary
  (against the width of a disk of the cross-section's area);
- branch points (nodes of degree >= 3), end points (degree 1), segments;
- tortuosity of a segment: its path length over the straight distance between its ends (1 for a
  straight vessel); the mean over segments whose ends differ (a closed loop has none).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import ndimage
from skan import Skeleton, summarize

from minivess_kedro.metrics.centreline import skeleton

#: The measurements of :func:`vessel_measures`, as ``summary.csv`` names them.
MEASURE_COLUMNS = (
    "total_length_um",
    "length_density_mm_per_mm3",
    "mean_diameter_um",
    "median_diameter_um",
    "branch_points",
    "end_points",
    "segments",
    "mean_tortuosity",
)
#: The columns of :func:`segment_table`.
SEGMENT_COLUMNS = (
    "segment",
    "component",
    "length_um",
    "straight_length_um",
    "tortuosity",
    "mean_diameter_um",
    "kind",
)
#: skan's branch types, named.
_KINDS = {0: "isolated", 1: "end-to-branch", 2: "branch-to-branch", 3: "loop"}


def _graph(mask: np.ndarray, spacing: Sequence[float]) -> tuple[np.ndarray, np.ndarray, Skeleton | None]:
    """The skeleton, the diameter at every voxel (µm) and skan's graph (``None``: no path)."""
    binary = np.asarray(mask) != 0
    centreline = skeleton(binary)
    diameter = 2.0 * ndimage.distance_transform_edt(binary, sampling=[float(s) for s in spacing[:3]])
    if centreline.sum() < 2:  # skan needs a path of two voxels at least
        return centreline, diameter, None
    return centreline, diameter, Skeleton(centreline, spacing=[float(s) for s in spacing[:3]])


def _segments(graph: Skeleton, diameter: np.ndarray, spacing: Sequence[float]) -> pd.DataFrame:
    """skan's segment table with the smoothed length (``length_um``) and the mean diameter of each."""
    with warnings.catch_warnings():  # skan 0.13's own use of a pandas argument pandas 3 deprecates
        warnings.filterwarnings("ignore", message="The inplace keyword in DataFrame.rename is deprecated")
        segments = summarize(graph, separator="_")
    scale = np.asarray(spacing[:3], dtype=float)
    lengths, diameters = [], []
    for index in range(len(segments)):
        voxels = graph.path_coordinates(index).astype(int)
        points = voxels * scale
        if len(points) > 3:  # a moving average of the centreline, its ends kept: the voxel staircase removed
            points[1:-1] = ndimage.uniform_filter1d(points, 3, axis=0)[1:-1]
        lengths.append(float(np.linalg.norm(np.diff(points, axis=0), axis=1).sum()))
        diameters.append(float(diameter[tuple(voxels.T)].mean()))
    return segments.assign(length_um=lengths, mean_diameter_um=diameters)


def _node_degrees(segments: pd.DataFrame) -> pd.Series:
    """Each node's number of segment ends (a loop's node counts its two ends)."""
    return pd.concat([segments["node_id_src"], segments["node_id_dst"]]).value_counts()


def _tortuosity(segments: pd.DataFrame) -> pd.Series:
    straight = segments["euclidean_distance"]
    return (segments["length_um"] / straight).where(straight > 0)


@dataclass(frozen=True)
class VesselAnalysis:
    """A mask's measurements (:data:`MEASURE_COLUMNS`) and its segment table
    (:data:`SEGMENT_COLUMNS`), from one skeleton graph."""

    measures: dict[str, float | int]
    segments: pd.DataFrame


def analyse_vessels(mask: np.ndarray, spacing: Sequence[float]) -> VesselAnalysis:
    """Skeletonizes ``mask`` once and measures it (:func:`vessel_measures`, :func:`segment_table`).

    Args:
        mask: ``H x W x D`` binary mask (non-zero is vessel).
        spacing: voxel size per axis in micrometres.
    """
    centreline, diameter, graph = _graph(mask, spacing)
    segments = None if graph is None else _segments(graph, diameter, spacing)
    volume_mm3 = float(np.prod(np.asarray(mask).shape)) * float(np.prod(spacing[:3])) * 1e-9
    diameters = diameter[centreline]
    if segments is None:
        length, branch, end, count, tortuosity = 0.0, 0, 0, 0, float("nan")
        table = pd.DataFrame(columns=list(SEGMENT_COLUMNS))
    else:
        degrees = _node_degrees(segments)
        length = float(segments["length_um"].sum())
        branch, end, count = int((degrees >= 3).sum()), int((degrees == 1).sum()), len(segments)
        tortuosity = float(_tortuosity(segments).mean())
        table = pd.DataFrame(
            {
                "segment": np.arange(len(segments)),
                "component": segments["skeleton_id"].to_numpy(),
                "length_um": segments["length_um"].to_numpy(),
                "straight_length_um": segments["euclidean_distance"].to_numpy(),
                "tortuosity": _tortuosity(segments).to_numpy(),
                "mean_diameter_um": segments["mean_diameter_um"].to_numpy(),
                "kind": segments["branch_type"].map(_KINDS).to_numpy(),
            }
        )
    measures = {
        "total_length_um": length,
        "length_density_mm_per_mm3": length * 1e-3 / volume_mm3 if volume_mm3 else 0.0,
        "mean_diameter_um": float(diameters.mean()) if diameters.size else float("nan"),
        "median_diameter_um": float(np.median(diameters)) if diameters.size else float("nan"),
        "branch_points": branch,
        "end_points": end,
        "segments": count,
        "mean_tortuosity": tortuosity,
    }
    return VesselAnalysis(measures, table)


def vessel_measures(mask: np.ndarray, spacing: Sequence[float]) -> dict[str, float | int]:
    """The measurements of :data:`MEASURE_COLUMNS` of one vessel mask.

    Returns:
        ``{column: value}``; an empty mask (or a one-voxel skeleton) has length 0, no points or
        segments, and NaN diameters and tortuosity.
    """
    return analyse_vessels(mask, spacing).measures


def segment_table(mask: np.ndarray, spacing: Sequence[float]) -> pd.DataFrame:
    """One row per segment of the mask's skeleton graph (:data:`SEGMENT_COLUMNS`), in µm.

    ``component`` numbers the connected pieces of the skeleton; ``kind`` says which nodes the
    segment joins (``end-to-branch``, ``branch-to-branch``, ``loop``, ``isolated``: a piece with
    no branch point).
    """
    return analyse_vessels(mask, spacing).segments
