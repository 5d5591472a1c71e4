"""Paired comparison of runs: bootstrap of the mean difference, Wilcoxon, Holm."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from minivess_kedro.metrics import (
    METRIC_KEYS,
    holm_correction,
    paired_comparison,
)


def _run(values: list[float], metric: str = "dsc", ids: list[str] | None = None) -> pd.DataFrame:
    ids = ids or [f"mv{i + 1:02d}" for i in range(len(values))]
    frame = pd.DataFrame({"id": ids, "diagonal": 100.0})
    for key in METRIC_KEYS:
        frame[key] = 0.5
    frame[metric] = values
    return frame


def test_holm_matches_hand_computed_values() -> None:
    # sorted: 0.01*3 = 0.03, 0.03*2 = 0.06, 0.04*1 = 0.04 -> monotone 0.03, 0.06, 0.06
    assert holm_correction([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])
    assert holm_correction([0.5, 0.9]) == pytest.approx([1.0, 1.0])
    assert holm_correction([0.2]) == pytest.approx([0.2])
    with pytest.raises(ValueError, match=r"p_values must lie in \[0, 1\]"):
        holm_correction([0.1, math.nan])


def test_paired_comparison_uses_scipy_with_a_paired_bootstrap() -> None:
    a = [0.80, 0.75, 0.90, 0.60, 0.85, 0.70, 0.78, 0.88]
    b = [0.70, 0.74, 0.80, 0.62, 0.80, 0.61, 0.70, 0.86]
    result = paired_comparison(_run(a), _run(b), "dsc", n_resamples=400, seed=3)
    assert result["mean_diff"] == pytest.approx(np.mean(a) - np.mean(b))
    expected_p = stats.wilcoxon(a, b).pvalue
    assert result["p_value"] == pytest.approx(expected_p, rel=1e-12)
    ci = stats.bootstrap(
        (np.array(a), np.array(b)),
        lambda x, y, axis: np.mean(x, axis=axis) - np.mean(y, axis=axis),
        paired=True,
        n_resamples=400,
        rng=np.random.default_rng(3),
    ).confidence_interval
    assert (result["ci_low"], result["ci_high"]) == pytest.approx((ci.low, ci.high), rel=1e-12)
    assert result["ci_low"] < result["mean_diff"] < result["ci_high"]


def test_pairing_follows_ids_not_row_order() -> None:
    a = _run([0.9, 0.8, 0.7, 0.6, 0.5])
    b = _run([0.85, 0.79, 0.6, 0.61, 0.4])
    shuffled = b.iloc[[3, 0, 4, 1, 2]].reset_index(drop=True)
    first = paired_comparison(a, b, "dsc", n_resamples=200)
    second = paired_comparison(a, shuffled, "dsc", n_resamples=200)
    assert first == second


def test_identical_runs_have_p_one_and_a_zero_interval() -> None:
    a = _run([0.9, 0.8, 0.7])
    result = paired_comparison(a, a.copy(), "dsc", n_resamples=100)
    assert result["p_value"] == 1.0 and result["mean_diff"] == 0.0
    assert (result["ci_low"], result["ci_high"]) == (0.0, 0.0)


def test_nan_distances_are_replaced_before_pairing() -> None:
    a = _run([1.0, math.nan, 2.0, 1.5], metric="hd95")
    b = _run([1.2, 3.0, 2.5, 1.0], metric="hd95")
    result = paired_comparison(a, b, "hd95", n_resamples=100)
    assert result["n_nan_replaced_a"] == 1 and result["mean_a"] == pytest.approx(104.5 / 4)


def test_different_volumes_are_refused() -> None:
    with pytest.raises(ValueError, match=r"only in A \['mv03'\], only in B \['mv04'\]"):
        paired_comparison(_run([0.1, 0.2, 0.3]), _run([0.1, 0.2, 0.3], ids=["mv01", "mv02", "mv04"]), "dsc")
