"""The held-out protocol: selection-bias warning, protocol section, run list, consistency caveats."""

from __future__ import annotations

from dataclasses import replace

import pytest

from minivess_kedro.reporting import Report, RunRecord
from minivess_kedro.reporting.metric_info import distance_unit
from minivess_kedro.reporting.protocol import consistency_caveats
from minivess_kedro.reporting.records import table_distance_units
from tests.reporting import fakes

BIAS = "These numbers are selection-biased."


def test_validation_only_runs_are_reported_on_val_and_flagged_loudly(val_report: Report) -> None:
    report = val_report
    assert report.split == "val" and report.selection_biased
    assert set(report.loss_table["split"]) == {"val"}
    # the warning comes first, before any number
    assert BIAS in report.markdown and report.markdown.index(BIAS) < report.markdown.index("## Headlines")
    assert '<div class="warning"><strong>Warning.</strong> <strong>These numbers are selection-biased.' in report.html
    # each fold scores its own val volumes: 3 + 2 volumes, one pair each
    row = report.comparisons[(report.comparisons["loss"] == "cbdice") & (report.comparisons["metric"] == "dsc")]
    assert (row["n_volumes"].item(), row["n_pairs"].item()) == (5, 5)
    dice_ce = report.loss_table[(report.loss_table["loss"] == "dice_ce") & (report.loss_table["metric"] == "dsc")]
    assert dice_ce["n_volumes"].item() == 5
    # mean of the fold means (0.70 + mean(0, .05, -.04) and 0.71 + mean(0, .05)), not the pooled mean 0.716
    assert dice_ce["mean"].item() == pytest.approx((0.70 + 0.01 / 3 + 0.735) / 2)


def test_held_out_test_numbers_carry_no_bias_warning(report: Report) -> None:
    assert report.split == "test" and not report.selection_biased
    assert BIAS not in report.markdown and BIAS not in report.html


def test_the_protocol_can_declare_selection_on_the_reported_volumes(variant_report: Report) -> None:
    assert variant_report.split == "test"
    assert variant_report.selection_biased and BIAS in variant_report.markdown


def test_protocol_section_and_run_list(report: Report) -> None:
    protocol = report.markdown.split("## Protocol")[1]
    for text in ("| splits.num_folds | 2 |", "| dataset_fingerprint | f00d |", "| data_source | synthetic |"):
        assert text in protocol
    # run id, loss, fold, seed, epochs, term on (no late term), selection start (not recorded), best epoch
    # (val DSC peaks at epoch 4), best val DSC
    assert "| cbdice-1 | cbdice | 1 | 0 | 6 | – | – | 4 | 0.700 | cpu | abc123def456 |" in protocol


def test_runs_that_differ_in_data_are_flagged(variant_report: Report, report: Report) -> None:
    assert "> **Warning.** The runs differ in tag 'dataset_fingerprint': ['beef', 'f00d']." in variant_report.markdown
    assert "The runs differ" not in report.markdown


@pytest.mark.parametrize(("fixture", "unit"), [("report", "µm"), ("variant_report", "voxels")])
def test_distance_units_follow_the_protocol(fixture: str, unit: str, request: pytest.FixtureRequest) -> None:
    report = request.getfixturevalue(fixture)
    assert f"MASD ({unit})" in report.markdown
    axes = [ax for ax in report.figures["metric_boxplots"].axes if ax.get_ylabel().startswith("HD95")]
    assert axes[0].get_ylabel() == f"HD95 ({unit})"


def test_without_a_protocol_the_report_says_so(minimal_report: Report) -> None:
    assert "No protocol was given." in minimal_report.markdown


def test_distance_units_of_the_tables_win_and_must_agree() -> None:
    runs = [fakes.make_run("dice_ce", 0), fakes.make_run("dice_ce", 1)]
    voxel = [RunRecord(r.run_id, r.loss, r.fold_idx, r.volume_metrics.assign(distance_units="voxel")) for r in runs]
    assert table_distance_units(voxel, None) == "voxel"
    assert distance_unit({"distance_units": "physical"}, table_distance_units(voxel, None)) == "voxels"
    assert table_distance_units(runs, None) is None
    mixed = [voxel[0], RunRecord("p", "dice_ce", 1, runs[1].volume_metrics.assign(distance_units="physical"))]
    with pytest.raises(ValueError, match="mix distance units"):
        table_distance_units(mixed, None)


def test_a_late_term_that_never_switched_on_is_a_caveat() -> None:
    warp = fakes.make_run("cbdice", 0)
    never = replace(warp, history=warp.history.assign(late_term_active=0.0))
    on = replace(warp, run_id="cbdice-1", fold_idx=1, history=warp.history.assign(late_term_active=1.0))
    caveats = consistency_caveats([never, on])
    assert caveats == [
        "Runs ['cbdice-0'] have a late topological term that never switched on (activate_at too late for "
        "max_epochs): they trained as their base loss alone, not as the loss they are labelled with."
    ]
