"""Per-volume table, NaN-to-worst-case replacement and bootstrap summaries."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from metrics_shapes import tube_z
from scipy import stats

from minivess_kedro.metrics import (
    METRIC_KEYS,
    VolumePair,
    bootstrap_mean_ci,
    build_volume_table,
    evaluate_volumes,
    summarize_metrics,
    worst_case_values,
)


def _record(i: int, **overrides: float) -> dict:
    base = {"id": f"mv{i:02d}", "split": "val", "diagonal": 100.0 + i}
    base.update({key: 0.1 * i for key in METRIC_KEYS})
    base.update(overrides)
    return base


def _table(values: dict[str, list[float]], diagonal: list[float] | None = None) -> pd.DataFrame:
    n = len(next(iter(values.values())))
    rows = [_record(i + 1) for i in range(n)]
    for i, row in enumerate(rows):
        for key, column in values.items():
            row[key] = column[i]
        if diagonal is not None:
            row["diagonal"] = diagonal[i]
    return build_volume_table(rows)


def test_table_puts_id_split_and_metrics_first() -> None:
    table = build_volume_table([{**_record(2), "seconds": 1.5}, {**_record(1), "split": "test"}])
    assert list(table.columns[:9]) == ["id", "split", *METRIC_KEYS]
    assert table["id"].tolist() == ["mv02", "mv01"]
    assert "seconds" in table.columns and "diagonal" in table.columns


@pytest.mark.parametrize(
    ("records", "message"),
    [
        ([], "records is empty"),
        ([{"id": "mv01", "dsc": 1.0}], r"record 0 \(id='mv01'\) lacks keys \['cldice'"),
        ([_record(1), _record(1)], r"repeated: \['mv01'\]"),
    ],
)
def test_table_rejects_bad_records(records, message) -> None:
    with pytest.raises(ValueError, match=message):
        build_volume_table(records)


def test_nan_distances_become_the_volume_diagonal_and_are_counted() -> None:
    table = _table({"masd": [1.0, math.nan, 3.0]}, diagonal=[50.0, 60.0, 70.0])
    values, replaced = worst_case_values(table, "masd")
    assert values.tolist() == [1.0, 60.0, 3.0] and replaced == 1
    summary = summarize_metrics(table, ["masd"], n_resamples=200)
    assert summary.loc["masd", "n_nan_replaced"] == 1
    assert summary.loc["masd", "mean"] == pytest.approx(64.0 / 3)
    assert summary.loc["masd", "median"] == 3.0
    assert summary.loc["masd", "std"] == pytest.approx(np.std([1.0, 60.0, 3.0], ddof=1))


def test_nan_in_a_non_distance_metric_is_an_error() -> None:
    table = _table({"dsc": [0.5, math.nan]})
    with pytest.raises(ValueError, match=r"'dsc' is NaN for volumes \['mv02'\]"):
        summarize_metrics(table, ["dsc"], n_resamples=100)
    with pytest.raises(ValueError, match="'nope' is not a column"):
        worst_case_values(table, "nope")


@pytest.mark.parametrize("method", ["BCa", "percentile"])
def test_summary_ci_is_scipy_bootstrap_with_the_given_seed(method: str) -> None:
    dsc = [0.61, 0.72, 0.80, 0.55, 0.90, 0.77, 0.68, 0.83]
    table = _table({"dsc": dsc})
    summary = summarize_metrics(table, ["dsc"], method=method, n_resamples=500, seed=7)
    expected = stats.bootstrap(
        (np.array(dsc),), np.mean, n_resamples=500, method=method, rng=np.random.default_rng(7)
    ).confidence_interval
    assert summary.loc["dsc", "ci_low"] == pytest.approx(expected.low, rel=1e-12)
    assert summary.loc["dsc", "ci_high"] == pytest.approx(expected.high, rel=1e-12)
    assert summary.loc["dsc", "ci_low"] < np.mean(dsc) < summary.loc["dsc", "ci_high"]
    assert summary.loc["dsc", "ci_method"] == method
    again = summarize_metrics(table, ["dsc"], method=method, n_resamples=500, seed=7)
    pd.testing.assert_frame_equal(summary, again)


def test_methods_and_seeds_change_the_interval() -> None:
    table = _table({"dsc": [0.1, 0.5, 0.52, 0.55, 0.9, 0.95, 0.3]})
    bca = summarize_metrics(table, ["dsc"], method="BCa", n_resamples=300)
    pct = summarize_metrics(table, ["dsc"], method="percentile", n_resamples=300)
    other_seed = summarize_metrics(table, ["dsc"], method="BCa", n_resamples=300, seed=1)
    assert bca.loc["dsc", "ci_low"] != pct.loc["dsc", "ci_low"]
    assert bca.loc["dsc", "ci_low"] != other_seed.loc["dsc", "ci_low"]


def test_degenerate_samples() -> None:
    assert bootstrap_mean_ci(np.array([0.4, 0.4, 0.4])) == (0.4, 0.4)
    low, high = bootstrap_mean_ci(np.array([0.4]))
    assert math.isnan(low) and math.isnan(high)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"method": "bootstrap-t"}, "method must be one of"),
        ({"n_resamples": 0}, "n_resamples must be a positive integer"),
        ({"confidence_level": 95}, r"confidence_level must lie in \(0, 1\)"),
    ],
)
def test_bad_bootstrap_settings(kwargs, message) -> None:
    with pytest.raises(ValueError, match=message):
        summarize_metrics(_table({"dsc": [0.1, 0.2]}), ["dsc"], **kwargs)


def test_evaluate_volumes_builds_the_table_and_names_the_bad_volume() -> None:
    spacing = (0.7, 0.7, 5.0)
    tube = tube_z((20, 20, 6), (9, 9), 3.0, (1, 1, 1))
    pairs = [
        VolumePair("mv01", tube, tube, spacing, "val"),
        VolumePair("mv02", np.roll(tube, 1, axis=0), tube, spacing, "val"),
        VolumePair("mv03", np.zeros_like(tube), tube, spacing, "test"),
    ]
    table = evaluate_volumes(pairs, progress=False)
    assert table["id"].tolist() == ["mv01", "mv02", "mv03"]
    assert table.loc[0, "dsc"] == 1.0 and math.isnan(table.loc[2, "masd"])
    summary = summarize_metrics(table, n_resamples=100, method="percentile")
    assert summary.loc["masd", "n_nan_replaced"] == 1
    assert list(summary.index) == list(METRIC_KEYS)
    bad = [VolumePair("mv09", tube[:, :, :3], tube, spacing)]
    with pytest.raises(ValueError, match="volume 'mv09': pred and ref must have the same shape"):
        evaluate_volumes(bad, progress=False)
