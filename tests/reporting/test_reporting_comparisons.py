"""Paired comparisons with the reference loss, against a direct computation."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from minivess_kedro.metrics import METRIC_KEYS, bootstrap_paired_difference_ci, holm_correction
from minivess_kedro.reporting import Report, ReportSettings, build_report
from minivess_kedro.reporting.comparisons import compare_to_reference, power_caveat, smallest_p_value
from minivess_kedro.reporting.values import run_values
from tests.reporting import direct, fakes
from tests.reporting.conftest import SETTINGS


def _rows(report: Report, metric: str) -> pd.DataFrame:
    return report.comparisons[report.comparisons["metric"] == metric].set_index("loss")


@pytest.mark.parametrize("metric", METRIC_KEYS)
def test_paired_statistics_match_a_direct_computation(report: Report, metric: str) -> None:
    runs, rows, raw = fakes.make_runs(), _rows(report, metric), []
    for loss in ("cbdice", "cldice"):
        a, b = direct.volume_pairs(runs, loss, "dice_ce", metric)
        row = rows.loc[loss]
        assert row["mean_diff"] == pytest.approx(np.mean(a - b))
        low, high = bootstrap_paired_difference_ci(a, b, **SETTINGS.bootstrap_kwargs())
        assert (row["ci_low"], row["ci_high"]) == pytest.approx((low, high), nan_ok=True)
        p = 1.0 if np.all(a == b) else stats.wilcoxon(a, b).pvalue
        assert row["p_value"] == pytest.approx(p)
        assert (row["n_volumes"], row["n_pairs"], row["n_folds"]) == (5, 10, 2)
        raw.append(p)
    assert list(rows["p_holm"]) == pytest.approx(list(holm_correction(raw)))


def test_dsc_differences_have_known_values(report: Report) -> None:
    # cbdice - dice_ce per volume: 0.06 + pattern difference (0.01, -0.02, 0.03, 0.02, 0.01)
    row = _rows(report, "dsc").loc["cbdice"]
    assert row["mean_diff"] == pytest.approx(0.07)
    assert row["p_value"] == pytest.approx(0.0625)  # 5 positive differences: the exact two-sided floor
    assert row["reference"] == "dice_ce" and row["verdict"] == "not significant"


def _compare(runs: list, settings: ReportSettings = SETTINGS) -> pd.DataFrame:
    """The comparisons table of ``runs`` (test split, no post-processing), without the rest of the report."""
    values = run_values(runs, "test", settings.metrics)
    table, note = compare_to_reference(values[values["postprocessing"] == "none"], list(fakes.LOSSES), settings)
    assert note is None
    return table


def _dsc(table: pd.DataFrame) -> pd.DataFrame:
    return table[table["metric"] == "dsc"].set_index("loss")


def test_fold_volume_pairing_pools_every_pair() -> None:
    runs = fakes.make_runs()
    settings = ReportSettings(n_resamples=999, pairing="fold_volume")
    table = _compare(runs, settings)
    row = table[table["metric"] == "hd95"].set_index("loss").loc["cldice"]
    a, b = direct.values(runs, "cldice", "hd95"), direct.values(runs, "dice_ce", "hd95")
    assert row["n_pairs"] == 10 and row["p_value"] == pytest.approx(stats.wilcoxon(a, b).pvalue)
    low, high = bootstrap_paired_difference_ci(a.to_numpy(), b.to_numpy(), **settings.bootstrap_kwargs())
    assert (row["ci_low"], row["ci_high"]) == pytest.approx((low, high))


def test_a_missing_fold_is_compared_on_the_common_fold_only() -> None:
    runs = [r for r in fakes.make_runs() if not (r.loss == "cldice" and r.fold_idx == 1)]
    row = _dsc(_compare(runs)).loc["cldice"]
    assert (row["n_pairs"], row["n_folds"], row["n_volumes"]) == (5, 1, 5)
    # the reference's fold 0 only: 0.71 + pattern - (0.70 + pattern) on average
    assert row["mean_reference"] == pytest.approx(0.70)
    assert row["mean_diff"] == pytest.approx(0.014)


def test_differing_ids_are_paired_on_the_common_ones() -> None:
    runs = fakes.make_runs()
    cldice0 = next(r for r in runs if r.loss == "cldice" and r.fold_idx == 0)
    table = cldice0.volume_metrics
    runs[runs.index(cldice0)] = fakes.RunRecord(
        cldice0.run_id, "cldice", 0, table[table["id"] != "mv05"], cldice0.history, {}, {}
    )
    row = _dsc(_compare(runs)).loc["cldice"]
    assert (row["n_pairs"], row["n_volumes"]) == (9, 5)


def test_nothing_in_common_is_said_in_the_row_and_left_out_of_holm() -> None:
    runs = fakes.make_runs()
    for i, run in enumerate(runs):
        if run.loss == "cldice":
            renamed = run.volume_metrics.assign(id=run.volume_metrics["id"].str.replace("mv", "xx"))
            runs[i] = fakes.RunRecord(run.run_id, run.loss, run.fold_idx, renamed, run.history, {}, {})
    rows = _dsc(_compare(runs))
    assert rows.loc["cldice", "n_pairs"] == 0
    assert math.isnan(rows.loc["cldice", "p_value"]) and math.isnan(rows.loc["cldice", "p_holm"])
    assert "no (fold, seed, volume) pair in common" in rows.loc["cldice", "note"]
    assert rows.loc["cbdice", "p_holm"] == pytest.approx(rows.loc["cbdice", "p_value"])  # a family of one


def test_an_absent_reference_gives_an_empty_table_and_a_reason() -> None:
    settings = ReportSettings(n_resamples=999, reference_loss="unet_ce")
    report = build_report(fakes.make_runs(losses=("cbdice",)), None, [], fakes.PROTOCOL, settings)
    assert report.comparisons.empty
    assert "The reference loss 'unet_ce' has no run (losses found: ['cbdice']): no comparison." in report.markdown


def test_too_few_volumes_for_significance_is_stated(report: Report) -> None:
    # 5 volumes: smallest p 0.0625 > 0.05 / 2 losses
    assert smallest_p_value(5) == pytest.approx(0.0625)
    assert "no comparison can be significant" in report.markdown
    table = pd.DataFrame({"loss": ["a", "b"], "n_pairs": [10, 10], "n_volumes": [10, 10], "n_nonzero": [10, 10]})
    assert power_caveat(table, SETTINGS) is None  # 10 non-zero differences: floor 0.002 <= 0.025
    caveat = power_caveat(table.assign(n_nonzero=4), ReportSettings(pairing="fold_volume"))
    assert "With 4 non-zero paired differences (units: (fold, volume) pairs)" in caveat
    # 10 volumes, but only 5 with a non-zero difference (the Wilcoxon test drops zeros): no significance
    assert "no comparison can be significant" in power_caveat(table.assign(n_nonzero=[5, 4]), SETTINGS)
