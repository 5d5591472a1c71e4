"""Equality with the shared reference cases (values MetricsReloaded computes, under our policy)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from metrics_shapes import load_case, load_expected

from minivess_kedro.metrics import (
    compute_cldice,
    compute_dsc,
    compute_hausdorff_distance,
    compute_masd,
    compute_nsd,
    evaluate_pair,
)

EXPECTED = load_expected()
CASES = sorted(EXPECTED["cases"])
# expected.json uses MetricsReloaded's name for clDice.
KEYS = {"dsc": "dsc", "centreline_dsc": "cldice", "masd": "masd", "hd95": "hd95", "nsd": "nsd"}


def _assert_matches(ours: float, expected: float | None, label: str) -> None:
    if expected is None:
        assert math.isnan(ours), f"{label}: expected NaN, got {ours}"
    else:
        # rel=1e-6 and abs=0: an expected 0 must be exactly 0.
        assert ours == pytest.approx(expected, rel=1e-6, abs=0.0), label


def test_reference_cases_are_all_present() -> None:
    assert set(CASES) >= {"tube_curved_iso", "tube_radii_aniso", "one_voxel_hit", "empty_pred"}
    assert EXPECTED["hd_percentile"] == 95


@pytest.mark.parametrize("case", CASES)
def test_evaluate_pair_matches_reference(case: str) -> None:
    pred, ref, spacing = load_case(case)
    result = evaluate_pair(pred, ref, spacing, nsd_tau=EXPECTED["tau"])
    for key, ours_key in KEYS.items():
        _assert_matches(result[ours_key], EXPECTED["cases"][case][key], f"{case}/{key}")
    assert result["centreline_dsc"] == result["cldice"]


@pytest.mark.parametrize("case", CASES)
def test_pure_functions_match_reference(case: str) -> None:
    pred, ref, spacing = load_case(case)
    tau = EXPECTED["tau"]
    expected = EXPECTED["cases"][case]
    _assert_matches(compute_dsc(pred, ref), expected["dsc"], f"{case}/dsc")
    _assert_matches(compute_cldice(pred, ref), expected["centreline_dsc"], f"{case}/cldice")
    _assert_matches(compute_masd(pred, ref, spacing), expected["masd"], f"{case}/masd")
    _assert_matches(compute_hausdorff_distance(pred, ref, spacing, 95), expected["hd95"], f"{case}/hd95")
    _assert_matches(compute_nsd(pred, ref, spacing, tau), expected["nsd"], f"{case}/nsd")


@pytest.mark.parametrize("case", CASES)
def test_only_documented_policy_cells_differ_from_metricsreloaded(case: str) -> None:
    """Our values equal MetricsReloaded's raw output except clDice NaN on empty masks."""
    pred, ref, _ = load_case(case)
    entry = EXPECTED["cases"][case]
    some_mask_empty = not np.any(pred) or not np.any(ref)
    for key in KEYS:
        ours, raw = entry[key], entry["metricsreloaded_raw"][key]
        if raw is None and ours is not None:
            assert key == "centreline_dsc" and some_mask_empty, f"{case}/{key}"
        elif raw is None:
            assert ours is None
        else:
            assert ours == pytest.approx(raw, rel=1e-12, abs=0.0), f"{case}/{key}"


def test_header_spacing_is_used_for_distances() -> None:
    """The anisotropic case differs in voxel units: spacing from the header matters."""
    pred, ref, spacing = load_case("tube_radii_aniso")
    assert spacing[0] != spacing[2]
    physical = evaluate_pair(pred, ref, spacing, distance_units="physical")
    voxel = evaluate_pair(pred, ref, spacing, distance_units="voxel")
    assert physical["masd"] != pytest.approx(voxel["masd"])
    assert physical["dsc"] == voxel["dsc"] and physical["cldice"] == voxel["cldice"]
