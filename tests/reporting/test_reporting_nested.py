"""The nested protocol with seeds: one block per fold, training noise, detectable differences."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from minivess_kedro.reporting import Report, RunRecord, build_report
from minivess_kedro.reporting.clustered import clustered_difference, detectable_difference
from minivess_kedro.reporting.formatting import number
from minivess_kedro.reporting.metric_info import metric_label
from minivess_kedro.reporting.protocol import run_table
from tests.reporting import direct, fakes
from tests.reporting.conftest import SETTINGS


def _dsc_differences(loss: str) -> pd.DataFrame:
    """Per seed x volume: loss - dice_ce DSC, from the known values."""
    rows = [
        {"seed": seed, "id": v, "diff": fakes.nested_dsc(loss, f, seed, v) - fakes.nested_dsc("dice_ce", f, seed, v)}
        for f in fakes.NESTED_FOLDS
        for seed in fakes.SEEDS
        for v in fakes.nested_test_ids(f)
    ]
    return pd.DataFrame(rows)


def test_every_volume_is_tested_in_exactly_one_fold() -> None:
    tested = [v for f in fakes.NESTED_FOLDS for v in fakes.nested_test_ids(f)]
    assert sorted(tested) == list(fakes.NESTED_IDS)


def test_pairs_cover_all_volumes_and_both_seeds(nested_report: Report) -> None:
    c = nested_report.comparisons
    assert (c["n_volumes"] == len(fakes.NESTED_IDS)).all()
    assert (c["n_pairs"] == len(fakes.NESTED_IDS) * 2).all() and (c["n_seeds"] == 2).all()
    assert (c["n_folds"] == 3).all() and (c["n_runs"] == 6).all()
    assert np.isfinite(c["run_sd"]).all()


@pytest.mark.parametrize("loss", ["cbdice", "cldice"])
def test_dsc_difference_run_sd_and_detectable_match_a_direct_computation(nested_report: Report, loss) -> None:
    row = nested_report.comparisons.set_index(["metric", "loss"]).loc[("dsc", loss)]
    diffs = _dsc_differences(loss)
    per_volume = diffs.groupby("id")["diff"].mean()  # seeds averaged within a volume
    assert row["mean_diff"] == pytest.approx(per_volume.mean())
    # Seed s shifts every volume of the loss by SEED_SHIFT * s: a pure run effect. Per fold the two run
    # means differ by the shift, MS_run = 3 * 2 * (shift / 2)**2 = 1.5 shift**2, no residual, so the
    # run SD is sqrt(MS_run / 3) = |shift| / sqrt(2).
    assert row["run_sd"] == pytest.approx(abs(fakes.SEED_SHIFT[loss]) / math.sqrt(2))
    blocks = direct.difference_blocks(fakes.make_nested_runs(), loss, "dice_ce", "dsc")
    assert [b.shape for b in blocks] == [(3, 2)] * 3  # one block per fold: its own volumes x 2 seeds
    expected = detectable_difference(clustered_difference(blocks), SETTINGS.alpha, 6)  # 2 losses x 3 primary
    assert math.isfinite(row["detectable_diff"]) and row["detectable_diff"] == pytest.approx(expected)


def test_the_markdown_states_design_power_and_run_sd(nested_report: Report) -> None:
    md = nested_report.markdown
    design = md.split("## Study design")[1].split("## Headlines")[0]
    assert "Protocol `nested`: 3 outer folds; each of the 9 volumes tested exactly once" in design
    assert "2 seeds per loss and fold (0, 1)" in design
    assert "NSD tolerance τ = 2 µm" in design
    dsc = nested_report.comparisons[nested_report.comparisons["metric"] == "dsc"]
    detectable = number("dsc", dsc["detectable_diff"].median())
    assert f"**DSC**: with 6 paired runs this design detects true differences of about {detectable}" in design
    assert "+0.073 (run SD 0.004)" in md
    paired = md.split("## Paired comparisons")[1].split("## Post-processing")[0].splitlines()
    sentences = [line for line in paired if "smaller than the run-to-run spread" in line]
    c = nested_report.comparisons
    below = c[c["mean_diff"].abs() < c["run_sd"]]
    assert len(below) and len(sentences) == below["metric"].nunique()
    for r in below.itertuples():
        assert any(s.startswith(f"**{metric_label(r.metric)}**") and f"`{r.loss}` (" in s for s in sentences)


def test_nested_loss_means_are_over_volumes(nested_report: Report) -> None:
    table = nested_report.loss_table
    row = table[(table["loss"] == "cbdice") & (table["metric"] == "dsc")].iloc[0]
    per_volume = [
        np.mean([fakes.nested_dsc("cbdice", f, s, v) for s in fakes.SEEDS])
        for f in fakes.NESTED_FOLDS
        for v in fakes.nested_test_ids(f)
    ]
    assert row["mean"] == pytest.approx(np.mean(per_volume))
    assert (row["n_volumes"], row["n_folds"], row["n_seeds"]) == (9, 3, 2)
    fold_means = [np.mean(per_volume[3 * f : 3 * f + 3]) for f in fakes.NESTED_FOLDS]
    assert row["fold_std"] == pytest.approx(np.std(fold_means, ddof=1))


def test_the_runs_protocol_decides_selection_bias(nested_report: Report) -> None:
    assert nested_report.design.protocol == "nested" and nested_report.design.declared
    assert not nested_report.selection_biased  # the mapping's flag is overruled by the runs' tag
    assert "splits.checkpoint_selected_on_reported_volumes" not in nested_report.markdown
    previous = [
        RunRecord(
            r.run_id, r.loss, r.fold_idx, r.volume_metrics, r.history, r.params, r.tags | {"protocol": "previous"}
        )
        for r in fakes.make_runs(test=False)
    ]
    report = build_report(previous, None, [], {}, SETTINGS)
    assert report.selection_biased and "Protocol `previous`: no test set" in report.markdown


def test_a_protocol_that_contradicts_the_tables_is_refused() -> None:
    runs = [
        RunRecord(r.run_id, r.loss, r.fold_idx, r.volume_metrics, tags={"protocol": "nested"})
        for r in fakes.make_runs(test=False)
    ]
    with pytest.raises(ValueError, match="declare protocol 'nested' but their tables have no test rows"):
        build_report(runs, None, [], {}, SETTINGS)


def test_build_report_refuses_mixed_settings_before_any_work() -> None:
    runs = fakes.make_nested_runs()
    runs[0] = fakes.make_nested_run("dice_ce", 0, 0, params={"training.max_epochs": "50"})
    message = r"- training\.max_epochs: '50' in runs \['dice_ce-0-seed0'\]; '6' in runs \['dice_ce-0-seed1'"
    with pytest.raises(ValueError, match=message):
        build_report(runs, None, [], {}, SETTINGS)


def test_two_runs_of_one_loss_fold_and_seed_are_refused() -> None:
    runs = fakes.make_nested_runs()
    twin = fakes.make_nested_run("cbdice", 1, 1)
    twin = RunRecord("again", twin.loss, 1, twin.volume_metrics, seed=1)
    with pytest.raises(ValueError, match="two runs of loss 'cbdice' fold 1 seed 1: 'cbdice-1-seed1' and 'again'"):
        build_report([*runs, twin], None, [], {}, SETTINGS)


def test_run_table_has_seed_and_selects_late_term_epochs_like_training() -> None:
    history = fakes.history("warp", 0, epochs=8)  # val DSC every second epoch, peak at epoch 4
    history["late_term_active"] = (history["epoch"] >= 5).astype(float)
    history.loc[history["epoch"] == 6, "val_dsc"] = 0.60
    warp = RunRecord("warp-0-seed3", "warp", 0, fakes.volume_table("dice_ce", 0), history, seed=3)
    table = run_table([warp, fakes.make_run("dice_ce", 0)], "dice_ce").set_index("run_id")
    assert table.loc["warp-0-seed3", "seed"] == 3 and table.loc["warp-0-seed3", "term_on_epoch"] == 5
    # epoch 4 (0.70) had the term off: the best among epochs 5-7 is epoch 6
    assert table.loc["warp-0-seed3", "best_epoch"] == 6 and table.loc["warp-0-seed3", "best_val_dsc"] == 0.60
    assert pd.isna(table.loc["dice_ce-0", "term_on_epoch"]) and table.loc["dice_ce-0", "best_epoch"] == 4
    assert "seed 3" in warp.label


def test_run_table_selects_from_the_recorded_selection_start() -> None:
    """A dice_ce run trained under ``selection_start: late_term`` kept its best epoch from the
    study's start on, not the earlier peak (epoch 4) the history also holds."""
    history = fakes.history("dice_ce", 0, epochs=8)
    history.loc[history["epoch"] == 6, "val_dsc"] = 0.60
    params = {"lineage.training.selection_start_epoch": "5"}
    run = RunRecord("dice_ce-0", "dice_ce", 0, fakes.volume_table("dice_ce", 0), history, params)
    row = run_table([run], "dice_ce").iloc[0]
    assert (row["selection_start"], row["best_epoch"], row["best_val_dsc"]) == (5, 6, 0.60)
    assert pd.isna(run_table([fakes.make_run("dice_ce", 0)]).iloc[0]["selection_start"])  # not recorded


def test_a_study_missing_outer_folds_says_so() -> None:
    """Folds 0 and 1 of a 3-fold nested study: 6 of the 9 volumes, and the report says which folds."""
    runs = [
        fakes.make_nested_run(loss, fold, seed, {"lineage.splitting.num_folds": "3"})
        for loss in ("dice_ce", "cbdice")
        for fold in (0, 1)
        for seed in fakes.SEEDS
    ]
    report = build_report(runs, None, [], {}, SETTINGS)
    assert report.design.num_folds == 3 and report.design.folds == (0, 1)
    assert "**Only folds 0, 1 of the study's 3 were run**: the 6 volumes" in report.markdown


def test_nested_runs_testing_a_volume_in_two_folds_are_refused() -> None:
    """Runs made on different splits: the same volume is test volume of two folds of one loss."""
    runs = fakes.make_nested_runs(("dice_ce", "cbdice"))
    moved = fakes.make_nested_run("cbdice", 1, 0)
    table = moved.volume_metrics.copy()
    table.loc[table["split"] == "test", "id"] = list(fakes.nested_test_ids(0))  # fold 0's volumes again
    runs = [r for r in runs if r.run_id != moved.run_id] + [replace(moved, volume_metrics=table)]
    with pytest.raises(ValueError, match=r"volume 'mv\d+' is tested by folds 0 and 1 of loss 'cbdice' \(seed 0\)"):
        build_report(runs, None, [], {}, SETTINGS)
