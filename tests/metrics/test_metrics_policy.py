"""The empty-mask policy table of the spec, cell by cell, through evaluate_pair."""

from __future__ import annotations

import math

import numpy as np
import pytest
from metrics_shapes import diagonal, tube_z

from minivess_kedro.metrics import METRIC_KEYS, evaluate_pair

SHAPE = (24, 24, 8)
SPACING = (0.7, 0.7, 5.0)
TUBE = tube_z(SHAPE, (6, 6), 3.0, (1, 1, 1))
FAR_TUBE = tube_z(SHAPE, (17, 17), 3.0, (1, 1, 1))
EMPTY = np.zeros(SHAPE, dtype=bool)
NAN = math.nan

# case: (pred, ref, expected dsc, cldice, masd, hd95, nsd)
POLICY = {
    "both empty": (EMPTY, EMPTY, 1.0, 1.0, 0.0, 0.0, 1.0),
    "prediction empty": (EMPTY, TUBE, 0.0, 0.0, NAN, NAN, 0.0),
    "reference empty": (TUBE, EMPTY, 0.0, 0.0, NAN, NAN, 0.0),
}


@pytest.mark.parametrize("case", list(POLICY))
def test_policy_table(case: str) -> None:
    pred, ref, *expected = POLICY[case]
    result = evaluate_pair(pred, ref, SPACING)
    for key, value in zip(("dsc", "cldice", "masd", "hd95", "nsd"), expected, strict=True):
        if math.isnan(value):
            assert math.isnan(result[key]), f"{case}: {key}"
        else:
            assert result[key] == value, f"{case}: {key}"


def test_disjoint_masks_whose_skeletons_miss_each_other() -> None:
    """Both non-empty, skeletons overlap neither mask: clDice 0, the rest as defined."""
    result = evaluate_pair(TUBE, FAR_TUBE, SPACING)
    assert result["cldice"] == 0.0 and result["dsc"] == 0.0
    assert result["masd"] > 0 and result["hd95"] >= result["masd"] * 0.5
    assert result["nsd"] == 0.0


def test_every_reported_key_is_present_and_typed() -> None:
    result = evaluate_pair(TUBE, np.roll(TUBE, 1, axis=0), SPACING, nsd_tau=0.7)
    for key in METRIC_KEYS:
        assert isinstance(result[key], float | int), key
    assert result["diagonal"] == pytest.approx(diagonal(SHAPE, SPACING))
    assert result["distance_units"] == "physical" and result["nsd_tau"] == 0.7
    assert result["n_border_pred"] > 0 and result["n_fg_pred"] == TUBE.sum()
    voxel = evaluate_pair(TUBE, TUBE, SPACING, distance_units="voxel")
    assert voxel["diagonal"] == pytest.approx(diagonal(SHAPE, (1, 1, 1)))
