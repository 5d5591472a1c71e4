"""Where the registry aliases go by the report's verdict, and when they stay."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from minivess_kedro.pipelines.reporting.params import PromotionParams, ReportingParams
from minivess_kedro.reporting import ReportSettings, RunRecord, build_report
from minivess_kedro.reporting.ensembles import ensemble_request, ensemble_sha256, verdict_postprocessing
from minivess_kedro.reporting.promotion import (
    AliasTarget,
    ModelVersion,
    PromotionSettings,
    alias_assignments,
    choose_losses,
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


ENSEMBLES = {  # the versions the registry dataset gave each loss's ensemble
    "cbdice": {"model_name": NAME, "version": "10", "members": [{"run_id": r.run_id} for r in RUNS[2:5]],
               "postprocessing": {"mode": "none"}},
    "dice_ce": {"model_name": NAME, "version": "11", "members": [{"run_id": r.run_id} for r in RUNS[:2]],
                "postprocessing": {"mode": "none"}},
    "cldice": {"model_name": NAME, "version": "12", "members": [{"run_id": "cldice-0-0"}],
               "postprocessing": {"mode": "none"}},
}  # fmt: skip


def _choices(current: dict | None = None, comparisons: pd.DataFrame = COMPARISONS, refusal=None, runs=RUNS, **kwargs):
    return choose_losses(runs, comparisons, "dice_ce", _targets(current), PromotionSettings(**kwargs), refusal)


def _plan(
    current: dict | None = None, comparisons=COMPARISONS, ensembles=ENSEMBLES, enabled=True, **kwargs
) -> pd.DataFrame:
    choices = _choices(current, comparisons, **kwargs)
    return plan_promotions(choices, ensembles, _targets(current), set(), enabled).set_index("alias")


def _targets(current: dict | None) -> dict[tuple[str, str], AliasTarget]:
    """``{(name, alias): version or AliasTarget}`` as where the aliases point (plain versions:
    models of unknown data and loss)."""
    return {
        key: target if isinstance(target, AliasTarget) else AliasTarget(target)
        for key, target in (current or {}).items()
    }


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
    choices = _choices(refusal=why)
    assert [c.loss for c in choices] == [None, None, None] and all(c.leave for c in choices)
    plan = plan_promotions(choices, ENSEMBLES, _targets({(NAME, "best-dsc"): "3"}), set())
    assert list(plan["alias"]) == ["best-dsc", "best-cldice", "reference"]
    assert set(plan["action"]) == {"none"} and alias_assignments(plan) == {}
    assert all(reason == f"promotion refused: {why}" for reason in plan["reason"])


def test_the_ensemble_holds_every_run_of_the_loss_by_fold_and_seed() -> None:
    request = ensemble_request("cbdice", RUNS, VERSIONS, {"mode": "none"})
    assert [(m["run_id"], m["version"], m["weights_sha256"]) for m in request["members"]] == [
        ("cbdice-0-0", "3", "w3"),
        ("cbdice-1-0", "4", "w4"),
        ("cbdice-1-1", "5", "w5"),
    ]
    assert (request["model_name"], request["postprocessing"]) == (NAME, {"mode": "none"})


def test_an_ensemble_missing_a_member_or_holding_stale_weights_is_refused_naming_it() -> None:
    without = {k: v for k, v in VERSIONS.items() if k != "cbdice-1-1"}
    refused = ensemble_request("cbdice", RUNS, without, {"mode": "none"})["refused"]
    assert "must hold every network the verdict is about" in refused
    assert "run 'cbdice-1-1' (loss 'cbdice', fold 1, seed 1) registered no model version" in refused
    none = ensemble_request("cbdice", RUNS, {}, {"mode": "none"})["refused"]
    assert none == "no run of cbdice has a registered model version (trained with MLflow off?)"
    stale = VERSIONS | {"cbdice-0-0": ModelVersion(NAME, "3", "aaaa1111bbbb2222", "cccc3333dddd4444")}
    refused = ensemble_request("cbdice", RUNS, stale, {"mode": "none"})["refused"]
    assert "version 3 holds weights aaaa1111bbbb but the evaluated best_model.pt has cccc3333dddd" in refused
    unrecorded = VERSIONS | {"cbdice-0-0": ModelVersion(NAME, "3", "aaaa1111bbbb2222", "")}
    refused = ensemble_request("cbdice", RUNS, unrecorded, {"mode": "none"})["refused"]
    assert "the evaluated best_model.pt has (digest not recorded)" in refused
    split = VERSIONS | {"cbdice-1-0": ModelVersion("other-name", "4", "w4", "w4")}
    refused = ensemble_request("cbdice", RUNS, split, {"mode": "none"})["refused"]
    assert refused == f"the runs of cbdice registered under several model names: {NAME}, other-name"


def test_the_verdicts_post_processing_is_recorded_with_the_runs_component_sizes() -> None:
    sizes = {"evaluation.components.min_volume_um3": "80.0", "evaluation.components.max_hole_um3": "20"}
    runs = [RunRecord("r", "dice_ce", 0, pd.DataFrame(), params=sizes)]
    assert verdict_postprocessing(runs, "none") == {"mode": "none"}
    assert verdict_postprocessing(runs, "components") == {
        "mode": "components",
        "components": {"min_volume_um3": 80.0, "max_hole_um3": 20.0},
    }


def test_the_ensembles_identity_changes_with_any_member_its_order_config_or_post_processing() -> None:
    base = ensemble_sha256(NAME, {"filters": [4, 8]}, ["a", "b"], {"mode": "none"})
    assert base == ensemble_sha256(NAME, {"filters": [4, 8]}, ["a", "b"], {"mode": "none"})
    others = {
        ensemble_sha256(NAME, {"filters": [4, 8]}, ["a", "c"], {"mode": "none"}),
        ensemble_sha256(NAME, {"filters": [4, 8]}, ["b", "a"], {"mode": "none"}),
        ensemble_sha256(NAME, {"filters": [4, 16]}, ["a", "b"], {"mode": "none"}),
        ensemble_sha256(NAME, {"filters": [4, 8]}, ["a", "b"], {"mode": "components"}),
        ensemble_sha256("other", {"filters": [4, 8]}, ["a", "b"], {"mode": "none"}),
    }
    assert base not in others and len(others) == 5


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


def test_the_alias_goes_to_the_winning_losss_ensemble() -> None:
    plan = _plan()
    assert list(plan.index) == ["best-dsc", "best-cldice", "reference"]
    best = plan.loc["best-dsc"]
    assert (best["loss"], best["version"], best["members"], best["action"]) == ("cbdice", "10", 3, "set")
    assert best["member_run_ids"] == "cbdice-0-0;cbdice-1-0;cbdice-1-1" and best["postprocessing"] == "none"
    assert "the ensemble of its 3 network(s) (every fold x seed)" in best["reason"]
    assert (plan.loc["best-cldice", "loss"], plan.loc["best-cldice", "version"]) == ("dice_ce", "11")
    assert (plan.loc["reference", "loss"], plan.loc["reference", "version"]) == ("dice_ce", "11")
    assert alias_assignments(plan.reset_index()) == {NAME: {"best-dsc": "10", "best-cldice": "11", "reference": "11"}}


def test_an_alias_on_the_winning_losss_ensemble_is_kept() -> None:
    current = {(NAME, "best-dsc"): "10", (NAME, "best-cldice"): "11"}
    plan = _plan(current)
    assert (plan.loc["best-dsc", "action"], plan.loc["best-dsc", "version"]) == ("kept", "10")
    assert "verdict unchanged" in plan.loc["best-dsc", "reason"]
    assert plan.loc["best-cldice", "action"] == "kept"
    assert alias_assignments(plan.reset_index()) == {NAME: {"reference": "11"}}  # only what changes is set
    from_csv = plan.reset_index().assign(version=[10.0, 11.0, 11.0])  # pandas reads the versions back as floats
    assert alias_assignments(from_csv) == {NAME: {"reference": "11"}}


def test_a_changed_verdict_or_a_single_fold_model_moves_the_alias_and_says_from_where() -> None:
    row = _plan({(NAME, "best-dsc"): "1"}).loc["best-dsc"]  # dice_ce's: cbdice is now significantly better
    assert (row["action"], row["previous_version"], row["version"]) == ("moved", "1", "10")
    assert "moved from version 1" in row["reason"]
    # an alias on one network of the winning loss (before ensembles) moves to its ensemble
    row = _plan({(NAME, "best-dsc"): AliasTarget("3", loss="cbdice")}).loc["best-dsc"]
    assert (row["action"], row["previous_version"], row["version"]) == ("moved", "3", "10")


def test_no_registered_ensemble_or_no_comparison_sets_nothing_and_says_why() -> None:
    refused = {loss: {"refused": f"no run of {loss} has a registered model version"} for loss in ENSEMBLES}
    unregistered = _plan(ensembles=refused)
    assert len(unregistered) == 3 and set(unregistered["action"]) == {"none"}
    assert (
        "but no ensemble of cbdice was registered: no run of cbdice has a registered model version"
        in unregistered.iloc[0]["reason"]
    )
    no_reference = _plan(comparisons=COMPARISONS.iloc[0:0])
    assert no_reference.loc["best-dsc", "action"] == "none" and pd.isna(no_reference.loc["best-dsc", "members"])
    assert "no paired comparison on dsc" in no_reference.loc["best-dsc", "reason"]
    assert alias_assignments(unregistered.reset_index()) == {}
    alone = winning_loss(COMPARISONS.iloc[0:0], "dsc", "dice_ce", 0.05, losses={"dice_ce"})
    assert alone == ("dice_ce", "only the reference loss dice_ce was run: nothing to compare on dsc")


def test_with_promotion_disabled_the_plan_names_the_loss_and_sets_nothing() -> None:
    plan = _plan({(NAME, "best-dsc"): "1"}, ensembles={}, enabled=False)
    assert set(plan["action"]) == {"none"} and alias_assignments(plan.reset_index()) == {}
    assert "would go to the ensemble of cbdice (nothing registered or set" in plan.loc["best-dsc", "reason"]


def test_promotion_params_refuse_unknown_metrics_and_bad_alias_names() -> None:
    with pytest.raises(ValueError, match=r"unknown or repeated metrics \['dcs'\]"):
        PromotionParams(metrics=("dcs",))
    with pytest.raises(ValueError, match="reference_alias 'best-dsc' is also the alias of a promoted metric"):
        PromotionParams(reference_alias="best-dsc")
    with pytest.raises(ValueError, match="'latest' is not a registry alias"):
        PromotionParams(reference_alias="latest")
    assert PromotionParams(reference_alias="").reference_alias == ""


def test_a_verdict_without_a_model_removes_the_previous_winners_alias() -> None:
    # cbdice was best on dsc and held the alias; now cldice is, but its ensemble could not be registered
    comparisons = pd.DataFrame([_comparison("cldice", "dsc", "better", 0.85)])
    ensembles = ENSEMBLES | {"cldice": {"refused": "no run of cldice has a registered model version"}}
    row = _plan({(NAME, "best-dsc"): "10"}, comparisons=comparisons, ensembles=ensembles).loc["best-dsc"]
    assert (row["loss"], row["action"], row["previous_version"], row["version"]) == ("cldice", "removed", "10", "")
    assert "no run of cldice has a registered model version" in row["reason"]
    assert "removed from version 10" in row["reason"]
    plan = _plan({(NAME, "best-dsc"): "10"}, comparisons=comparisons, ensembles=ensembles)
    assert alias_assignments(plan.reset_index())[NAME]["best-dsc"] == ""  # "": remove the alias


def test_an_alias_on_another_model_name_of_the_study_is_removed_when_it_moves() -> None:
    other = "minivess-dynunet-old"
    current = {(other, "best-dsc"): "8"}  # the old name's model; cbdice's ensemble now wins on dsc
    plan = _plan(current, metrics=("dsc",)).reset_index()
    rows = plan[plan["alias"] == "best-dsc"].set_index("model_name")
    assert (rows.loc[NAME, "action"], rows.loc[NAME, "version"]) == ("set", "10")
    assert (rows.loc[other, "action"], rows.loc[other, "previous_version"]) == ("removed", "8")
    assert f"best-dsc is now on {NAME} version 10" in rows.loc[other, "reason"]
    assert alias_assignments(plan) == {NAME: {"best-dsc": "10", "reference": "11"}, other: {"best-dsc": ""}}


def test_an_alias_on_a_model_of_other_data_is_left_as_it_is() -> None:
    synthetic = [replace(r, tags={"dataset_fingerprint": "synth"}) for r in RUNS]
    current = {
        (NAME, "best-dsc"): AliasTarget("41", "ebrains0123456789"),
        (NAME, "reference"): AliasTarget("11", "synth"),
    }
    choices = choose_losses(synthetic, COMPARISONS, "dice_ce", current, PromotionSettings(metrics=("dsc",)))
    plan = plan_promotions(choices, ENSEMBLES, current, {"synth"})
    row = plan.set_index("alias").loc["best-dsc"]
    assert (row["action"], row["version"]) == ("none", "")
    assert "points at version 41, a model trained on other data (dataset fingerprint ebrains01234" in row["reason"]
    assert "training.registered_model_name" in row["reason"]
    assert alias_assignments(plan) == {}  # the reference alias is already on this data's dice_ce ensemble: kept


def test_an_alias_stays_on_a_loss_still_significantly_better_when_another_has_the_higher_mean() -> None:
    both = pd.DataFrame(
        [
            _comparison("cbdice", "dsc", "better", 0.78),
            _comparison("cldice", "dsc", "better", 0.80, ci=(0.02, 0.18)),
        ]
    )
    on_cbdice = {(NAME, "best-dsc"): AliasTarget("10", loss="cbdice")}
    row = _plan(on_cbdice, comparisons=both, metrics=("dsc",)).loc["best-dsc"]
    assert (row["loss"], row["action"], row["version"]) == ("cbdice", "kept", "10")
    assert "the alias stays on cbdice, also significantly better than the reference" in row["reason"]
    fresh = _plan(comparisons=both, metrics=("dsc",)).loc["best-dsc"]
    assert (fresh["loss"], fresh["version"]) == ("cldice", "12")  # no alias yet: the best worse end


def test_build_report_refuses_promotion_on_selection_biased_numbers_and_on_a_restricted_grid() -> None:
    settings = ReportSettings(n_resamples=999)
    biased = build_report(fakes.make_runs(test=False), None, [], fakes.PROTOCOL, settings, PromotionSettings(), {}, {})
    assert biased.selection_biased and set(biased.promotions["action"]) == {"none"}
    assert biased.promotions["reason"].str.startswith("promotion refused: the numbers are selection-biased").all()
    runs = [r for r in fakes.make_runs() if not (r.loss == "cldice" and r.fold_idx == 1)]
    restricted = ReportSettings(n_resamples=999, restrict_to_shared_cells=True)
    partial = build_report(runs, None, [], fakes.PROTOCOL, restricted, PromotionSettings(), {}, {})
    assert set(partial.promotions["action"]) == {"none"}
    assert partial.promotions["reason"].str.contains("the grid is incomplete").all()


def test_the_report_states_the_members_cross_validated_numbers_and_that_the_ensemble_was_not_tested() -> None:
    runs = fakes.make_runs()
    ensembles = {
        loss: {
            "model_name": NAME,
            "version": str(i + 1),
            "members": [{"run_id": r.run_id} for r in runs if r.loss == loss],
            "postprocessing": {"mode": "none"},
        }
        for i, loss in enumerate(sorted({r.loss for r in runs}))
    }
    report = build_report(
        runs, None, [], fakes.PROTOCOL, ReportSettings(n_resamples=999), PromotionSettings(), ensembles, {}
    )
    reference = report.loss_table[(report.loss_table["loss"] == "dice_ce") & (report.loss_table["metric"] == "dsc")]
    expected = (
        f"dsc {reference['mean'].iloc[0]:.3f} [{reference['ci_low'].iloc[0]:.3f}, {reference['ci_high'].iloc[0]:.3f}]"
    )
    section = report.markdown.split("## Models promoted")[1].split("## Figures")[0]
    assert expected in section
    assert "The ensemble itself was not tested on unseen data" in section


def test_an_alias_staying_on_a_loss_whose_ensemble_is_refused_goes_to_the_verdicts_winner() -> None:
    both = pd.DataFrame(
        [
            _comparison("cbdice", "dsc", "better", 0.78),
            _comparison("cldice", "dsc", "better", 0.80, ci=(0.02, 0.18)),
        ]
    )
    on_cbdice = {(NAME, "best-dsc"): AliasTarget("10", loss="cbdice")}
    (choice,) = _choices(on_cbdice, both, metrics=("dsc",), reference_alias="")
    assert (choice.loss, choice.fallback, choice.losses()) == ("cbdice", "cldice", ["cbdice", "cldice"])
    refused = ENSEMBLES | {"cbdice": {"refused": "a new seed's version holds other weights"}}
    row = _plan(on_cbdice, comparisons=both, ensembles=refused, metrics=("dsc",)).loc["best-dsc"]
    assert (row["loss"], row["action"], row["previous_version"], row["version"]) == ("cldice", "moved", "10", "12")
    assert "but no ensemble of cbdice (a new seed's version holds other weights): it goes to cldice" in row["reason"]
