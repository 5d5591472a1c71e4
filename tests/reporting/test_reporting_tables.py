"""Loss, fold and baseline tables: the numbers of known fake runs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from minivess_kedro.metrics import bootstrap_mean_ci
from minivess_kedro.reporting import Report, build_report
from minivess_kedro.reporting.values import baseline_values
from tests.reporting import direct, fakes
from tests.reporting.conftest import SETTINGS


def _row(report: Report, loss: str, metric: str) -> pd.Series:
    table = report.loss_table
    return table[(table["loss"] == loss) & (table["metric"] == metric)].iloc[0]


@pytest.mark.parametrize(("loss", "expected"), [("dice_ce", 0.705), ("cbdice", 0.775), ("cldice", 0.719)])
def test_loss_table_dsc_is_the_mean_over_folds_of_fold_means(report: Report, loss: str, expected: float) -> None:
    # base + mean fold offset (0, 0.01) + mean of the loss's volume pattern
    row = _row(report, loss, "dsc")
    assert row["mean"] == pytest.approx(expected)
    per_volume = [np.mean([fakes.dsc_value(loss, f, i) for f in (0, 1)]) for i in range(5)]
    low, high = bootstrap_mean_ci(np.array(per_volume), **SETTINGS.bootstrap_kwargs())
    assert (row["ci_low"], row["ci_high"]) == pytest.approx((low, high))
    assert row["fold_std"] == pytest.approx(np.std([expected - 0.005, expected + 0.005], ddof=1))
    assert (row["n_folds"], row["n_volumes"], row["kind"], row["split"]) == (2, 5, "loss", "test")


def test_loss_table_replaces_a_nan_distance_by_the_diagonal(report: Report) -> None:
    runs = fakes.make_runs()
    expected = direct.values(runs, "cldice", "masd").groupby("fold").mean().mean()
    row = _row(report, "cldice", "masd")
    assert row["mean"] == pytest.approx(expected)
    assert row["mean"] > fakes.DIAGONAL / 10  # the worst case is in the mean, not dropped
    assert row["n_nan_replaced"] == 1
    assert _row(report, "dice_ce", "masd")["n_nan_replaced"] == 0
    assert "replaced by the volume's diagonal" in report.markdown


def test_loss_table_has_every_loss_and_metric_in_report_order(report: Report) -> None:
    table = report.loss_table
    assert list(dict.fromkeys(table["loss"])) == ["dice_ce", "cbdice", "cldice", "frangi", "otsu"]
    assert list(table[table["loss"] == "cbdice"]["metric"]) == list(SETTINGS.metrics)


def test_baselines_are_rows_marked_as_baselines(report: Report) -> None:
    baseline = report.baseline_table
    assert set(baseline["loss"]) == {"otsu", "frangi"}
    assert (baseline["kind"] == "baseline").all()
    assert baseline["n_folds"].isna().all()
    otsu = baseline[(baseline["loss"] == "otsu") & (baseline["metric"] == "dsc")].iloc[0]
    assert otsu["mean"] == pytest.approx(0.42)  # 0.40 + 0.01 * mean(0..4)
    assert list(baseline.columns) == list(report.loss_table.columns)
    in_loss_table = report.loss_table[report.loss_table["kind"] == "baseline"].reset_index(drop=True)
    pd.testing.assert_frame_equal(baseline, in_loss_table)
    assert "otsu (baseline)" in report.markdown and "otsu (baseline)" in report.html


def test_without_baselines_the_report_says_so(minimal_report: Report) -> None:
    assert minimal_report.baseline_table.empty
    assert set(minimal_report.loss_table["kind"]) == {"loss"}
    assert "No classical baseline was given." in minimal_report.markdown


def test_baselines_are_restricted_to_the_reported_volumes(val_report: Report) -> None:
    # the fake baselines scored mv01-mv05; the val report is about mv06-mv10
    assert val_report.baseline_table.empty
    assert "The baselines were scored on none of the 5 reported volumes: left out." in val_report.markdown
    # the baselines pipeline labels every row 'test', also when there is no test set: ids decide
    values, note = baseline_values(fakes.baselines(), "val", SETTINGS.metrics, "none", list(fakes.TEST_IDS))
    assert note is None and len(values) == 2 * 5 * len(SETTINGS.metrics)
    values, note = baseline_values(fakes.baselines(), "test", SETTINGS.metrics, "none", [*fakes.TEST_IDS, "mv06"])
    assert note == "The baselines cover only some of the 6 reported volumes: {'frangi': 5, 'otsu': 5}."


def test_a_baseline_row_of_the_reported_split_wins() -> None:
    table = fakes.baselines()
    relabelled = table.assign(split="val", dsc=0.0)
    values, _ = baseline_values(pd.concat([relabelled, table]), "test", ("dsc",), "none", list(fakes.TEST_IDS))
    assert values["value"].mean() == pytest.approx(0.47)  # mean of otsu 0.42 and frangi 0.52, not 0


def test_fold_table_holds_each_runs_test_means(report: Report) -> None:
    folds = report.fold_table
    row = folds[(folds["loss"] == "dice_ce") & (folds["fold_idx"] == 1) & (folds["metric"] == "dsc")].iloc[0]
    assert row["mean"] == pytest.approx(0.71)
    assert (row["run_id"], row["n"]) == ("dice_ce-1", 5)
    assert len(folds) == 3 * 2 * len(SETTINGS.metrics)
    assert folds["loss"].iloc[0] == "dice_ce"  # the reference first


@pytest.mark.parametrize(
    ("columns", "left_out"),
    [
        ({"protocol": "nested", "nsd_tau": fakes.NSD_TAU}, None),
        ({}, None),  # a table that does not record them (given by hand) is not second-guessed
        (
            {"protocol": "previous", "nsd_tau": fakes.NSD_TAU},
            "fitted and scored under protocol previous where the runs ran nested",
        ),
        ({"protocol": "nested", "nsd_tau": 1.0}, "scored with NSD tolerance 1 where the runs used 2"),
    ],
)
def test_baselines_of_another_protocol_or_tolerance_are_left_out(columns: dict, left_out: str | None) -> None:
    """The cached baselines table follows the last evaluation's splits and settings: a Frangi
    threshold fitted on the volumes it scores, or another τ, never stands beside the runs."""
    runs = fakes.make_nested_runs()
    report = build_report(runs, fakes.baselines().assign(**columns), [], fakes.PROTOCOL, SETTINGS)

    if left_out is None:
        assert set(report.baseline_table["loss"]) == {"otsu", "frangi"}
        return
    assert report.baseline_table.empty
    assert f"The classical baselines were {left_out}: left out." in report.markdown
    assert "`kedro run --env <env> --nodes evaluate_baselines`" in report.markdown
