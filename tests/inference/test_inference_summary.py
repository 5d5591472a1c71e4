"""The per-volume summary of inference, on masks with analytic answers: a straight tube's
centreline length in micrometres (anisotropic spacing), components, a loop, the vessel fraction."""

from __future__ import annotations

import math

import numpy as np
import pytest

from minivess_kedro.inference.summary import mask_summary


def test_a_straight_tube_is_as_long_as_its_centreline_in_micrometres() -> None:
    mask = np.zeros((40, 9, 9), dtype=np.uint8)
    mask[5:35, 3:6, 3:6] = 1  # 30 voxels along H, a 3 x 3 cross-section
    summary = mask_summary(mask, (2.0, 0.5, 5.0))
    # The skeleton is the tube's axis, 30 voxels from end to end: 29 steps of 2 um along H (not
    # 0.5 or 5 um: the spacing of the other axes)
    assert summary["total_length_um"] == pytest.approx(29 * 2.0)
    assert (summary["segments"], summary["end_points"], summary["branch_points"]) == (1, 2, 0)
    assert (summary["betti_0"], summary["betti_1"]) == (1, 0)
    assert summary["vessel_fraction"] == pytest.approx(30 * 9 / mask.size)
    assert (summary["size_h"], summary["size_w"], summary["size_d"]) == (40, 9, 9)
    assert (summary["spacing_h_um"], summary["spacing_w_um"], summary["spacing_d_um"]) == (2.0, 0.5, 5.0)


def test_two_separate_blobs_are_two_components() -> None:
    mask = np.zeros((20, 20, 8), dtype=np.uint8)
    mask[2:6, 2:6, 2:6] = 1
    mask[12:17, 12:17, 2:6] = 1
    summary = mask_summary(mask, (1.0, 1.0, 1.0))
    assert (summary["betti_0"], summary["betti_1"]) == (2, 0)
    assert summary["vessel_fraction"] == pytest.approx((64 + 100) / mask.size)


def test_a_ring_has_one_loop_and_a_centreline_around_it() -> None:
    mask = np.zeros((24, 24, 5), dtype=np.uint8)
    h, w = np.mgrid[:24, :24]
    radius = np.hypot(h - 11.5, w - 11.5)
    mask[(radius >= 6) & (radius <= 9), 1:4] = 1
    summary = mask_summary(mask, (1.0, 1.0, 1.0))
    assert (summary["betti_0"], summary["betti_1"]) == (1, 1)
    # The skeleton runs around the ring near its middle radius (7.5 voxels): 2 pi r
    assert summary["total_length_um"] == pytest.approx(2 * math.pi * 7.5, rel=0.15)
    assert summary["segments"] == 1 and summary["end_points"] == 0  # one closed loop


def test_an_empty_mask_measures_zero() -> None:
    summary = mask_summary(np.zeros((4, 4, 4), dtype=np.uint8), (1.0, 1.0, 1.0))
    assert (summary["vessel_fraction"], summary["total_length_um"], summary["betti_0"]) == (0.0, 0.0, 0)
