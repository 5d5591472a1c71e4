"""Paired comparisons with the reference loss: plumbing against a direct computation, the Holm
families, and a verdict's direction."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from minivess_kedro.metrics import METRIC_KEYS, holm_correction
from minivess_kedro.reporting import Report, ReportSettings, build_report
from minivess_kedro.reporting.clustered import clustered_difference
from minivess_kedro.reporting.comparisons import compare_to_reference
from minivess_kedro.reporting.values import run_values
from tests.reporting import direct, fakes
from tests.reporting.conftest import SETTINGS


def _rows(report: Report, metric: str) -> pd.DataFrame:
    return report.comparisons[report.comparisons["metric"] == metric].set_index("loss")


@pytest.mark.parametrize("metric", METRIC_KEYS)
def test_paired_statistics_match_a_direct_computation(report: Report, metric: str) -> None:
    runs, rows = fakes.make_runs(), _rows(report, metric)
    for loss in ("cbdice", "cldice"):
        blocks = direct.difference_blocks(runs, loss, "dice_ce", metric)
        expected = clustered_difference(blocks, SETTINGS.confidence_level)
        row = rows.loc[loss]
        assert row["mean_diff"] == pytest.approx(expected.estimate)
        assert (row["ci_low"], row["ci_high"]) == pytest.approx((expected.ci_low, expected.ci_high))
        assert (row["p_value"], row["df"], row["se"]) == pytest.approx((expected.p_value, expected.df, expected.se))
        # holdout: both folds test the same 5 volumes, one block of 5 volumes x 2 runs
        assert (row["n_volumes"], row["n_pairs"], row["n_folds"], row["n_runs"]) == (5, 10, 2, 2)


def test_holm_runs_over_losses_x_primary_metrics_and_separately_over_the_rest(report: Report) -> None:
    c = report.comparisons
    assert SETTINGS.primary_metrics == ("dsc", "cldice", "hd95")
    for family, metrics in (
        ("primary", {"dsc", "cldice", "hd95"}),
        ("secondary", set(METRIC_KEYS) - {"dsc", "cldice", "hd95"}),
    ):
        rows = c[c["family"] == family]
        assert set(rows["metric"]) == metrics and len(rows) == 2 * len(metrics)
        tested = rows[rows["p_value"].notna()]
        assert list(tested["p_holm"]) == pytest.approx(list(holm_correction(list(tested["p_value"]))))


def _values(differences: np.ndarray, metric: str = "dsc", reference_level: float = 0.8) -> pd.DataFrame:
    """Values rows of ``cbdice`` and ``dice_ce`` from differences of shape (folds, seeds, volumes per fold)."""
    folds, seeds, per_fold = differences.shape
    rows = []
    for k in range(folds):
        for s in range(seeds):
            for v in range(per_fold):
                base = {"fold_idx": k, "seed": s, "id": f"v{k}-{v}", "metric": metric, "postprocessing": "none"}
                rows.append(base | {"loss": "dice_ce", "value": reference_level})
                rows.append(base | {"loss": "cbdice", "value": reference_level + differences[k, s, v]})
    return pd.DataFrame(rows)


def test_a_loss_that_rescues_two_failures_but_is_worse_elsewhere_is_never_better() -> None:
    # Worse by 0.01 on 67 of 69 volumes, +0.9 on two reference failures: mean +0.016, but the test is of
    # that mean and its interval (run noise included) contains 0: not "better" (Wilcoxon called it better).
    rng = np.random.default_rng(0)
    d = np.full((3, 3, 23), -0.01) + rng.normal(0, 0.002, (3, 3, 23)) + rng.normal(0, 0.01, (3, 3, 1))
    d[0, :, 0] = d[1, :, 0] = 0.9
    settings = ReportSettings(metrics=("dsc",))
    row = compare_to_reference(_values(d), ["dice_ce", "cbdice"], settings)[0].iloc[0]
    assert row["mean_diff"] > 0 and row["ci_low"] < 0 < row["ci_high"]
    assert row["verdict"] == "not significant"


@pytest.mark.parametrize("shift", [0.05, -0.05])
def test_the_verdict_has_the_sign_of_the_tested_estimate(shift: float) -> None:
    rng = np.random.default_rng(1)
    d = shift + rng.normal(0, 0.01, (3, 3, 23)) + rng.normal(0, 0.005, (3, 3, 1))
    for metric, better in (("dsc", shift > 0), ("hd95", shift < 0)):
        row = compare_to_reference(_values(d, metric), ["dice_ce", "cbdice"], ReportSettings(metrics=(metric,)))[0]
        row = row.iloc[0]
        assert row["verdict"] == ("better" if better else "worse")
        assert (row["ci_low"] > 0) == (shift > 0) and (row["ci_high"] < 0) == (shift < 0)


def test_one_seed_per_fold_is_not_testable_and_the_report_says_what_to_run() -> None:
    runs = [fakes.make_nested_run(loss, fold, 0) for loss in fakes.LOSSES for fold in fakes.NESTED_FOLDS]
    report = build_report(runs, None, [], {}, SETTINGS)
    c = report.comparisons
    assert (c["verdict"] == "not testable").all() and c["p_value"].isna().all()
    assert "training noise cannot be separated" in c["note"].iloc[0]
    assert "**This design cannot separate the losses from training noise.**" in report.markdown
    assert "Run at least 2 seeds per loss and fold" in report.markdown


def test_a_missing_fold_is_an_error_listing_the_missing_cells() -> None:
    runs = [r for r in fakes.make_runs() if not (r.loss == "cldice" and r.fold_idx == 1)]
    with pytest.raises(ValueError, match=r"incomplete grid: .*missing cldice: fold 1 seed 0\. Run the missing"):
        build_report(runs, None, [], fakes.PROTOCOL, SETTINGS)


def test_with_the_flag_every_table_uses_the_shared_cells_and_says_so() -> None:
    runs = [r for r in fakes.make_runs() if not (r.loss == "cldice" and r.fold_idx == 1)]
    settings = ReportSettings(n_resamples=999, restrict_to_shared_cells=True)
    report = build_report(runs, None, [], fakes.PROTOCOL, settings)
    assert set(report.fold_table["fold_idx"]) == {0}
    assert (report.comparisons["n_folds"] == 1).all()
    assert "**Incomplete grid: every table uses only the (fold, seed) cells all losses share** (fold 0 seed 0)" in (
        report.markdown
    )


def test_differing_ids_are_paired_on_the_volumes_every_run_of_the_block_scored() -> None:
    runs = fakes.make_runs()
    cldice0 = next(r for r in runs if r.loss == "cldice" and r.fold_idx == 0)
    table = cldice0.volume_metrics
    runs[runs.index(cldice0)] = fakes.RunRecord(
        cldice0.run_id, "cldice", 0, table[table["id"] != "mv05"], cldice0.history, {}, {}
    )
    row = _rows(build_report(runs, None, [], fakes.PROTOCOL, SETTINGS), "dsc").loc["cldice"]
    # mv05 of fold 1 has no partner run in its block: 4 volumes x 2 runs, one pair left out and said so
    assert (row["n_pairs"], row["n_volumes"]) == (8, 4)
    assert "1 pair(s) left out" in row["note"]


def test_nothing_in_common_is_said_in_the_row_and_left_out_of_holm() -> None:
    runs = fakes.make_runs()
    for i, run in enumerate(runs):
        if run.loss == "cldice":
            renamed = run.volume_metrics.assign(id=run.volume_metrics["id"].str.replace("mv", "xx"))
            runs[i] = fakes.RunRecord(run.run_id, run.loss, run.fold_idx, renamed, run.history, {}, {})
    values = run_values(runs, "test", SETTINGS.metrics)
    table, _ = compare_to_reference(values[values["postprocessing"] == "none"], list(fakes.LOSSES), SETTINGS)
    rows = table[table["metric"] == "dsc"].set_index("loss")
    assert rows.loc["cldice", "n_pairs"] == 0
    assert math.isnan(rows.loc["cldice", "p_value"]) and math.isnan(rows.loc["cldice", "p_holm"])
    assert "no (fold, seed, volume) pair in common" in rows.loc["cldice", "note"]
    primary = table[(table["family"] == "primary") & table["p_value"].notna()]
    assert set(primary["loss"]) == {"cbdice"}  # cldice's rows are not in the family
    assert list(primary["p_holm"]) == pytest.approx(list(holm_correction(list(primary["p_value"]))))


def test_an_absent_reference_gives_an_empty_table_and_a_reason() -> None:
    settings = ReportSettings(n_resamples=999, reference_loss="unet_ce")
    report = build_report(fakes.make_runs(losses=("cbdice",)), None, [], fakes.PROTOCOL, settings)
    assert report.comparisons.empty
    assert "The reference loss 'unet_ce' has no run (losses found: ['cbdice']): no comparison." in report.markdown


def test_non_inferiority_needs_the_interval_inside_the_margin() -> None:
    rng = np.random.default_rng(2)
    d = -0.004 + rng.normal(0, 0.002, (3, 3, 23))  # slightly worse, tightly: non-inferior at 0.01, not at 0.001
    for margin, expected in ((0.01, True), (0.001, False)):
        settings = ReportSettings(metrics=("dsc",), non_inferiority_margins={"dsc": margin})
        row = compare_to_reference(_values(d), ["dice_ce", "cbdice"], settings)[0].iloc[0]
        assert row["margin"] == margin and bool(row["non_inferior"]) is expected


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"primary_metrics": ("dsc", "betti9")}, r"\['betti9'\] not among the reported metrics"),
        ({"non_inferiority_margins": {"dsc": -0.1}}, "negative or not a number"),
        ({"metrics": ("dsc", "betti0_error"), "primary_metrics": ("betti0_error",)}, "no margin for primary metrics"),
    ],
)
def test_bad_test_settings_are_refused(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ReportSettings(**({"metrics": ("dsc", "cldice")} | kwargs))
