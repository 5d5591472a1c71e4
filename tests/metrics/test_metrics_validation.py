"""Bad input fails early with a ValueError that names what is wrong."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from minivess_kedro.metrics import (
    HausdorffDistanceMetric,
    NSDMetric,
    compute_dsc,
    compute_hausdorff_distance,
    compute_nsd,
    evaluate_pair,
)

GOOD = np.zeros((8, 8, 4), dtype=np.uint8)
GOOD[2:5, 2:5, 1:3] = 1
SPACING = (0.7, 0.7, 5.0)


@pytest.mark.parametrize(
    ("pred", "ref", "spacing", "message"),
    [
        (GOOD, GOOD[:, :, :3], SPACING, r"same shape, got \(8, 8, 4\) and \(8, 8, 3\)"),
        (GOOD * 2, GOOD, SPACING, r"pred must be binary .* \[2\]"),
        (GOOD, GOOD.astype(float) * 0.5, SPACING, r"ref must be binary .* \[0.5\]"),
        (GOOD, np.where(GOOD, np.nan, 0.0), SPACING, r"ref must be binary"),
        (GOOD[:, :, 0], GOOD[:, :, 0], SPACING, r"pred must be a 3D array .* \(8, 8\)"),
        (GOOD[None], GOOD[None], SPACING, r"pred must be a 3D array"),
        (GOOD.tolist(), GOOD, SPACING, r"pred must be a numpy array, got list"),
        (GOOD.astype(str), GOOD, SPACING, r"pred must be boolean or numeric"),
        (GOOD, GOOD, (0.7, 0.0, 5.0), r"strictly positive, got \(0.7, 0.0, 5.0\)"),
        (GOOD, GOOD, (0.7, -1.0, 5.0), r"strictly positive"),
        (GOOD, GOOD, (0.7, float("nan"), 5.0), r"finite and strictly positive"),
        (GOOD, GOOD, (0.7, 0.7), r"spacing must have 3 values"),
        (GOOD, GOOD, "abc", r"spacing must be three positive numbers"),
    ],
)
def test_evaluate_pair_rejects_bad_input(pred, ref, spacing, message) -> None:
    with pytest.raises(ValueError, match=message):
        evaluate_pair(pred, ref, spacing)


def test_bad_options_are_named() -> None:
    with pytest.raises(ValueError, match="distance_units must be one of"):
        evaluate_pair(GOOD, GOOD, SPACING, distance_units="mm")
    with pytest.raises(ValueError, match=r"nsd_tau must be finite and >= 0, got -1"):
        evaluate_pair(GOOD, GOOD, SPACING, nsd_tau=-1)
    with pytest.raises(ValueError, match="percentile must lie in"):
        compute_hausdorff_distance(GOOD, GOOD, SPACING, percentile=101)
    with pytest.raises(ValueError, match="tau must be finite"):
        compute_nsd(GOOD, GOOD, SPACING, tau=float("inf"))
    with pytest.raises(ValueError, match="percentile must lie in"):
        HausdorffDistanceMetric(percentile=-5)
    with pytest.raises(ValueError, match="distance_units"):
        NSDMetric(distance_units="microns")


def test_voxel_units_still_validate_the_header_spacing() -> None:
    with pytest.raises(ValueError, match="strictly positive"):
        evaluate_pair(GOOD, GOOD, (0.0, 1.0, 1.0), distance_units="voxel")


@pytest.mark.parametrize("dtype", [bool, np.uint8, np.int16, np.float32, np.float64])
def test_binary_inputs_of_any_dtype_give_the_same_result(dtype) -> None:
    ref = np.zeros_like(GOOD)
    ref[3:6, 2:5, 1:3] = 1
    assert compute_dsc(GOOD.astype(dtype), ref.astype(dtype)) == pytest.approx(2 * 12 / 36)


def test_metrics_package_does_not_import_kedro_mlflow_or_torch() -> None:
    code = (
        "import sys, minivess_kedro.metrics as m; "
        "bad = [n for n in ('kedro', 'mlflow', 'torch') if n in sys.modules]; "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    done = subprocess.run([sys.executable, "-c", code], check=False, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
