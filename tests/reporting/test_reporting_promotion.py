"""Where the registry aliases go by the report's verdict, and when they stay."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from minivess_kedro.pipelines.reporting.params import PromotionParams, ReportingParams
from minivess_kedro.reporting import ReportSettings, RunRecord, build_report
from minivess_kedro.reporting.promotion import (
    AliasTarget,
    ModelVersion,
    PromotionSettings,
    alias_assignments,
    plan_promotions,
    winning_loss,
)
from tests.reporting import fakes

NAME = "minivess-dynunet"


def _comparison(
    loss: str,
    metric: str,
    verdict: str,
    mean_loss: float,
    p_holm: float = 0.01,
    ci: tuple[float, float] = (0.01, 0.09),
    non_inferior: bool = True,
) -> dict:
    return {
        "loss": loss,
        "reference": "dice_ce",
        "metric": metric,
        "family": "primary",
        "mean_loss": mean_loss,
        "mean_diff": mean_loss - 0.7,
        "ci_low": ci[0],
        "ci_high": ci[1],
        "p_holm": p_holm,
        "verdict": verdict,
        "margin": 0.01,
        "non_inferior": non_inferior,
    }


def _run(loss: str, fold: int, best_val: float, seed: int = 0) -> RunRecord:
    history = pd.DataFrame({"epoch": [0, 1, 2], "val_dsc": [best_val - 0.1, best_val, np.nan]})
    return RunRecord(f"{loss}-{fold}-{seed}", loss, fold, pd.DataFrame(), history, seed=seed)


RUNS = [
    _run("dice_ce", 0, 0.70),
    _run("dice_ce", 1, 0.75),
    _run("cbdice", 0, 0.80),
    _run("cbdice", 1, 0.78),
    _run("cbdice", 1, 0.80, seed=1),  # ties with fold 0: the lower fold wins
    _run("cldice", 0, 0.90),
]
VERSIONS = {run.run_id: ModelVersion(NAME, str(i + 1), f"w{i + 1}", f"w{i + 1}") for i, run in enumerate(RUNS)}
COMPARISONS = pd.DataFrame(
    [
        _comparison("cbdice", "dsc", "better", 0.78),
        _comparison("cldice", "dsc", "not significant", 0.80, p_holm=0.2),  # higher mean, no evidence
        _comparison("cbdice", "cldice", "not significant", 0.70, p_holm=0.3),
        _comparison("cldice", "cldice", "worse", 0.60),
    ]
)


def _plan(current: dict | None = None, comparisons: pd.DataFrame = COMPARISONS, **kwargs) -> pd.DataFrame:
    settings = PromotionSettings(**kwargs)
    return plan_promotions(RUNS, VERSIONS, comparisons, "dice_ce", _targets(current), settings).set_index("alias")


def _targets(current: dict | None) -> dict[tuple[str, str], AliasTarget]:
    """``{(name, alias): version}`` as where the aliases point (models of unknown data)."""
    return {key: AliasTarget(version) for key, version in (current or {}).items()}


def test_only_a_significantly_better_loss_takes_the_alias_from_the_reference() -> None:
    loss, reason = winning_loss(COMPARISONS, "dsc", "dice_ce", 0.05)
    assert loss == "cbdice" and "significantly better than the reference dice_ce on dsc" in reason
    assert "Holm p = 0.01" in reason
    loss, reason = winning_loss(COMPARISONS, "cldice", "dice_ce", 0.05)
    assert loss == "dice_ce" and "no loss is significantly better" in reason


def test_of_several_better_losses_the_best_worse_end_of_the_interval_wins_not_the_best_mean() -> None:
    both = pd.DataFrame(
        [
            _comparison("cbdice", "masd", "better", 1.5, ci=(-0.5, -0.1)),
            _comparison("cldice", "masd", "better", 1.2, ci=(-0.9, -0.05)),  # better mean, less sure
        ]
    )
    loss, reason = winning_loss(both, "masd", "dice_ce", 0.05)
    assert loss == "cbdice"  # a distance: lower is better, the interval's upper end is its worse end
    assert "also eligible: cldice (not tested against each other; the best worse-end of the interval" in reason


def test_a_loss_better_on_one_primary_metric_but_not_non_inferior_on_another_is_not_promoted() -> None:
    table = pd.DataFrame(
        [
            _comparison("cbdice", "cldice", "better", 0.80),
            _comparison("cbdice", "dsc", "not significant", 0.69, p_holm=0.4, ci=(-0.03, 0.01), non_inferior=False),
            _comparison("cbdice", "hd95", "not significant", 9.0, p_holm=0.5, ci=(-1.0, 0.5)),
        ]
    )
    loss, reason = winning_loss(table, "cldice", "dice_ce", 0.05)
    assert loss == "dice_ce"
    assert "cbdice is better on cldice but not shown non-inferior on dsc" in reason
    loss, reason = winning_loss(table.assign(non_inferior=True), "cldice", "dice_ce", 0.05)
    assert loss == "cbdice" and "and non-inferior on dsc, hd95" in reason


def test_a_selection_biased_or_incomplete_report_moves_no_alias() -> None:
    why = "the numbers are selection-biased"
    plan = plan_promotions(RUNS, VERSIONS, COMPARISONS, "dice_ce", {}, PromotionSettings(), refusal=why)
    assert list(plan["alias"]) == ["best-dsc", "best-cldice", "reference"]
    assert set(plan["action"]) == {"none"} and alias_assignments(plan) == {}
    assert all(reason == f"promotion refused: {why}" for reason in plan["reason"])


def test_a_version_whose_weights_are_not_the_evaluated_ones_is_refused_naming_both() -> None:
    stale = VERSIONS | {"cbdice-0-0": ModelVersion(NAME, "3", "aaaa1111bbbb2222", "cccc3333dddd4444")}
    plan = plan_promotions(RUNS, stale, COMPARISONS, "dice_ce", {}, PromotionSettings(metrics=("dsc",)))
    row = plan.set_index("alias").loc["best-dsc"]
    assert (row["action"], row["version"]) == ("none", "")
    assert "version 3 holds weights aaaa1111bbbb but the evaluated best_model.pt has cccc3333dddd" in row["reason"]
    unrecorded = VERSIONS | {"cbdice-0-0": ModelVersion(NAME, "3", "aaaa1111bbbb2222", "")}
    row = plan_promotions(RUNS, unrecorded, COMPARISONS, "dice_ce", {}, PromotionSettings(metrics=("dsc",)))
    assert "the evaluated best_model.pt has (digest not recorded)" in row.iloc[0]["reason"]


def test_a_promoted_metric_must_be_primary() -> None:
    with pytest.raises(ValueError, match=r"promotion.metrics \['nsd'\] are not among primary_metrics"):
        ReportingParams(predictions_root="x", promotion={"metrics": ["dsc", "nsd"]})
    with pytest.raises(ValueError, match=r"no margin for the primary metrics \['nsd'\]"):
        ReportingParams(
            predictions_root="x",
            primary_metrics=["dsc", "nsd"],
            non_inferiority_margins={"dsc": 0.01},
            promotion={"metrics": ["dsc"]},
        )


def test_the_alias_goes_to_the_winning_losss_model_with_the_best_validation_dsc() -> None:
    plan = _plan()
    assert list(plan.index) == ["best-dsc", "best-cldice", "reference"]
    best = plan.loc["best-dsc"]
    assert (best["loss"], best["run_id"], best["version"]) == ("cbdice", "cbdice-0-0", "3")
    assert best["action"] == "set" and best["best_val_dsc"] == pytest.approx(0.80)
    assert "the one with the highest validation DSC" in best["reason"]
    assert (plan.loc["best-cldice", "loss"], plan.loc["best-cldice", "version"]) == ("dice_ce", "2")
    assert (plan.loc["reference", "loss"], plan.loc["reference", "version"]) == ("dice_ce", "2")


def test_an_alias_on_a_model_of_the_winning_loss_is_kept() -> None:
    current = {(NAME, "best-dsc"): "4", (NAME, "best-cldice"): "2"}  # 4: cbdice fold 1, not the best by val DSC
    plan = _plan(current)
    assert (plan.loc["best-dsc", "action"], plan.loc["best-dsc", "version"]) == ("kept", "4")
    assert "verdict unchanged" in plan.loc["best-dsc", "reason"]
    assert plan.loc["best-cldice", "action"] == "kept"
    assert alias_assignments(plan.reset_index()) == {NAME: {"reference": "2"}}  # only what changes is set
    from_csv = plan.reset_index().assign(version=[4.0, 2.0, 2.0])  # pandas reads the versions back as floats
    assert alias_assignments(from_csv) == {NAME: {"reference": "2"}}


def test_a_changed_verdict_moves_the_alias_and_says_from_where() -> None:
    current = {(NAME, "best-dsc"): "1"}  # dice_ce's: cbdice is now significantly better
    row = _plan(current).loc["best-dsc"]
    assert (row["action"], row["previous_version"], row["version"]) == ("moved", "1", "3")
    assert "moved from version 1" in row["reason"]


def test_no_registered_version_or_no_comparison_sets_nothing_and_says_why() -> None:
    unregistered = plan_promotions(RUNS, {}, COMPARISONS, "dice_ce", {}, PromotionSettings())
    assert len(unregistered) == 3
    assert set(unregistered["action"]) == {"none"}
    assert "no run of cbdice has a registered model version" in unregistered.iloc[0]["reason"]
    no_reference = _plan(comparisons=COMPARISONS.iloc[0:0])
    assert no_reference.loc["best-dsc", "action"] == "none" and math.isnan(no_reference.loc["best-dsc", "best_val_dsc"])
    assert "no paired comparison on dsc" in no_reference.loc["best-dsc", "reason"]
    assert alias_assignments(unregistered) == {}
    alone = winning_loss(COMPARISONS.iloc[0:0], "dsc", "dice_ce", 0.05, losses={"dice_ce"})
    assert alone == ("dice_ce", "only the reference loss dice_ce was run: nothing to compare on dsc")


def test_promotion_params_refuse_unknown_metrics_and_bad_alias_names() -> None:
    with pytest.raises(ValueError, match=r"unknown or repeated metrics \['dcs'\]"):
        PromotionParams(metrics=("dcs",))
    with pytest.raises(ValueError, match="reference_alias 'best-dsc' is also the alias of a promoted metric"):
        PromotionParams(reference_alias="best-dsc")
    with pytest.raises(ValueError, match="'latest' is not a registry alias"):
        PromotionParams(reference_alias="latest")
    assert PromotionParams(reference_alias="").reference_alias == ""


def test_a_verdict_without_a_model_removes_the_previous_winners_alias() -> None:
    # cbdice was best on dsc and held the alias; now cldice is, but none of its runs registered a model
    comparisons = pd.DataFrame([_comparison("cldice", "dsc", "better", 0.85)])
    versions = {run_id: v for run_id, v in VERSIONS.items() if not run_id.startswith("cldice")}
    plan = plan_promotions(
        RUNS, versions, comparisons, "dice_ce", _targets({(NAME, "best-dsc"): "3"}), PromotionSettings()
    )
    row = plan.set_index("alias").loc["best-dsc"]
    assert (row["loss"], row["action"], row["previous_version"], row["version"]) == ("cldice", "removed", "3", "")
    assert (
        "no run of cldice has a registered model version" in row["reason"] and "removed from version 3" in row["reason"]
    )
    assert alias_assignments(plan)[NAME]["best-dsc"] == ""  # "": remove the alias


def test_an_alias_on_another_model_name_of_the_study_is_removed_when_it_moves() -> None:
    other = "minivess-dynunet-old"
    versions = VERSIONS | {
        "dice_ce-0-0": ModelVersion(other, "7", "w7", "w7"),
        "dice_ce-1-0": ModelVersion(other, "8", "w8", "w8"),
    }
    current = _targets({(other, "best-dsc"): "8"})  # the old name's dice_ce model; cbdice now wins on dsc
    plan = plan_promotions(RUNS, versions, COMPARISONS, "dice_ce", current, PromotionSettings(metrics=("dsc",)))
    rows = plan[plan["alias"] == "best-dsc"].set_index("model_name")
    assert (rows.loc[NAME, "action"], rows.loc[NAME, "version"]) == ("set", "3")
    assert (rows.loc[other, "action"], rows.loc[other, "previous_version"]) == ("removed", "8")
    assert f"best-dsc is now on {NAME} version 3" in rows.loc[other, "reason"]
    # the reference's best model by validation DSC is dice_ce fold 1, registered under the old name
    assert alias_assignments(plan) == {NAME: {"best-dsc": "3"}, other: {"best-dsc": "", "reference": "8"}}


def test_an_alias_on_a_model_of_other_data_is_left_as_it_is() -> None:
    synthetic = [
        RunRecord(
            r.run_id,
            r.loss,
            r.fold_idx,
            r.volume_metrics,
            r.history,
            tags={"dataset_fingerprint": "synth"},
            seed=r.seed,
        )
        for r in RUNS
    ]
    current = {
        (NAME, "best-dsc"): AliasTarget("41", "ebrains0123456789"),
        (NAME, "reference"): AliasTarget("2", "synth"),
    }
    plan = plan_promotions(synthetic, VERSIONS, COMPARISONS, "dice_ce", current, PromotionSettings(metrics=("dsc",)))
    row = plan.set_index("alias").loc["best-dsc"]
    assert (row["action"], row["version"]) == ("none", "")
    assert "points at version 41, a model trained on other data (dataset fingerprint ebrains01234" in row["reason"]
    assert "training.registered_model_name" in row["reason"]
    assert alias_assignments(plan) == {}  # the reference alias is already on this data's dice_ce model: kept


def test_an_alias_stays_on_a_loss_still_significantly_better_when_another_has_the_higher_mean() -> None:
    both = pd.DataFrame(
        [
            _comparison("cbdice", "dsc", "better", 0.78),
            _comparison("cldice", "dsc", "better", 0.80, ci=(0.02, 0.18)),
        ]
    )
    plan = _plan({(NAME, "best-dsc"): "4"}, comparisons=both, metrics=("dsc",))  # on cbdice's fold 1 model
    row = plan.loc["best-dsc"]
    assert (row["loss"], row["action"], row["version"]) == ("cbdice", "kept", "4")
    assert "the alias stays on cbdice, also significantly better than the reference" in row["reason"]
    fresh = _plan(comparisons=both, metrics=("dsc",)).loc["best-dsc"]
    assert (fresh["loss"], fresh["version"]) == ("cldice", "6")  # no alias yet: the best worse end


def test_build_report_refuses_promotion_on_selection_biased_numbers_and_on_a_restricted_grid() -> None:
    versions = {r.run_id: ModelVersion(NAME, str(i), f"w{i}", f"w{i}") for i, r in enumerate(fakes.make_runs())}
    settings = ReportSettings(n_resamples=999)
    biased = build_report(
        fakes.make_runs(test=False), None, [], fakes.PROTOCOL, settings, PromotionSettings(), versions, {}
    )
    assert biased.selection_biased and set(biased.promotions["action"]) == {"none"}
    assert biased.promotions["reason"].str.startswith("promotion refused: the numbers are selection-biased").all()
    runs = [r for r in fakes.make_runs() if not (r.loss == "cldice" and r.fold_idx == 1)]
    restricted = ReportSettings(n_resamples=999, restrict_to_shared_cells=True)
    partial = build_report(runs, None, [], fakes.PROTOCOL, restricted, PromotionSettings(), versions, {})
    assert set(partial.promotions["action"]) == {"none"}
    assert partial.promotions["reason"].str.contains("the grid is incomplete").all()
