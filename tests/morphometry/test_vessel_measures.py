"""Vessel measurements on shapes whose answer is known: a straight tube, a Y bifurcation, a helix."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.spatial import cKDTree

from minivess_kedro.morphometry import MEASURE_COLUMNS, SEGMENT_COLUMNS, segment_table, vessel_measures


def _tube(shape: tuple[int, int, int], start, end, radius: float) -> np.ndarray:
    """Voxels within ``radius`` of the segment ``start``-``end`` (voxel coordinates)."""
    grid = np.indices(shape).reshape(3, -1).T.astype(float)
    a, b = np.asarray(start, float), np.asarray(end, float)
    t = np.clip((grid - a) @ (b - a) / ((b - a) @ (b - a)), 0, 1)
    return (np.linalg.norm(grid - (a + t[:, None] * (b - a)), axis=1) <= radius).reshape(shape)


def _helix(radius: float, pitch: float, turns: int, tube: float) -> np.ndarray:
    shape = (40, 40, int(pitch * turns) + 12)
    t = np.linspace(0, 2 * np.pi * turns, 4000)
    centre = np.stack([20 + radius * np.cos(t), 20 + radius * np.sin(t), 6 + pitch * t / (2 * np.pi)], axis=1)
    distance, _ = cKDTree(centre).query(np.indices(shape).reshape(3, -1).T)
    return (distance <= tube).reshape(shape)


def test_a_straight_tube_of_known_radius_and_length() -> None:
    """Radius 4 voxels of 0.5 µm from z 5 to 55 along h: thinning keeps the axis but its end voxels."""
    spacing = (0.5, 1.0, 1.0)
    mask = _tube((60, 40, 40), (5, 20, 20), (55, 20, 20), 4)
    measures = vessel_measures(mask, spacing)

    assert list(measures) == list(MEASURE_COLUMNS)
    assert 48 * 0.5 <= measures["total_length_um"] <= 50 * 0.5  # thinning may take the end voxel of each end
    # the nearest background of a digital disk of radius 4 lies at sqrt(17) voxels: within half a voxel of 4
    assert measures["mean_diameter_um"] == pytest.approx(8.0, abs=1.0) == measures["median_diameter_um"]
    assert (measures["branch_points"], measures["end_points"], measures["segments"]) == (0, 2, 1)
    assert measures["mean_tortuosity"] == pytest.approx(1.0)
    field_mm3 = 60 * 40 * 40 * 0.5 * 1.0 * 1.0 * 1e-9
    assert measures["length_density_mm_per_mm3"] == pytest.approx(measures["total_length_um"] * 1e-3 / field_mm3)


def test_a_y_bifurcation_has_one_branch_point_three_ends_and_three_segments() -> None:
    shape = (60, 60, 20)
    mask = (
        _tube(shape, (5, 30, 10), (30, 30, 10), 3)
        | _tube(shape, (30, 30, 10), (55, 10, 10), 3)
        | _tube(shape, (30, 30, 10), (55, 50, 10), 2)
    )
    measures = vessel_measures(mask, (1.0, 1.0, 1.0))
    segments = segment_table(mask, (1.0, 1.0, 1.0))

    assert (measures["branch_points"], measures["end_points"], measures["segments"]) == (1, 3, 3)
    assert list(segments.columns) == list(SEGMENT_COLUMNS) and set(segments["kind"]) == {"end-to-branch"}
    assert segments["length_um"].sum() == pytest.approx(measures["total_length_um"])
    # each arm from the junction: 25, 32 and 32 voxels long, less the end voxel thinning removes
    assert measures["total_length_um"] == pytest.approx(25 + 2 * math.hypot(25, 20), rel=0.05)
    thin = segments.loc[segments["mean_diameter_um"].idxmin()]
    assert thin["mean_diameter_um"] < segments["mean_diameter_um"].max() - 1  # the radius-2 arm is the thin one
    assert (segments["tortuosity"] >= 1.0).all() and (segments["tortuosity"] < 1.1).all()


def test_a_helix_of_known_tortuosity() -> None:
    """Two turns of radius 8 and pitch 12: arc length / chord = sqrt((2 pi 8)^2 + 12^2) / 12 = 4.31."""
    mask = _helix(radius=8, pitch=12, turns=2, tube=2)
    measures = vessel_measures(mask, (1.0, 1.0, 1.0))

    expected = math.hypot(2 * math.pi * 8, 12) / 12
    assert measures["segments"] == 1 and measures["end_points"] == 2
    assert measures["mean_tortuosity"] == pytest.approx(expected, rel=0.03)  # voxel steps alone: +11 %
    assert measures["total_length_um"] == pytest.approx(2 * math.hypot(2 * math.pi * 8, 12), rel=0.03)


def test_spacing_scales_every_length() -> None:
    mask = _tube((40, 30, 30), (5, 15, 15), (35, 15, 15), 3)
    unit, scaled = vessel_measures(mask, (1.0, 1.0, 1.0)), vessel_measures(mask, (2.0, 2.0, 2.0))
    for column in ("total_length_um", "mean_diameter_um", "median_diameter_um"):
        assert scaled[column] == pytest.approx(2 * unit[column])
    assert scaled["mean_tortuosity"] == pytest.approx(unit["mean_tortuosity"])
    assert scaled["length_density_mm_per_mm3"] == pytest.approx(unit["length_density_mm_per_mm3"] / 4)  # 2 / 2^3


def test_an_empty_mask_has_no_vessels() -> None:
    measures = vessel_measures(np.zeros((10, 10, 5), np.uint8), (1.0, 1.0, 1.0))
    assert measures["total_length_um"] == 0.0 and measures["segments"] == measures["branch_points"] == 0
    assert math.isnan(measures["mean_diameter_um"]) and math.isnan(measures["mean_tortuosity"])
    assert segment_table(np.zeros((10, 10, 5), np.uint8), (1.0, 1.0, 1.0)).empty
