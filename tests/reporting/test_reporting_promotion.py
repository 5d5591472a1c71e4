"""Where the registry aliases go by the report's verdict, and when they stay."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from minivess_kedro.pipelines.reporting.params import PromotionParams
from minivess_kedro.reporting import RunRecord
from minivess_kedro.reporting.promotion import (
    ModelVersion,
    PromotionSettings,
    alias_assignments,
    plan_promotions,
    winning_loss,
)

NAME = "minivess-dynunet"


def _comparison(loss: str, metric: str, verdict: str, mean_loss: float, p_holm: float = 0.01) -> dict:
    return {
        "loss": loss,
        "reference": "dice_ce",
        "metric": metric,
        "mean_loss": mean_loss,
        "mean_diff": mean_loss - 0.7,
        "ci_low": 0.01,
        "ci_high": 0.09,
        "p_holm": p_holm,
        "verdict": verdict,
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
VERSIONS = {run.run_id: ModelVersion(NAME, str(i + 1)) for i, run in enumerate(RUNS)}
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
    return plan_promotions(RUNS, VERSIONS, comparisons, "dice_ce", current or {}, settings).set_index("alias")


def test_only_a_significantly_better_loss_takes_the_alias_from_the_reference() -> None:
    loss, reason = winning_loss(COMPARISONS, "dsc", "dice_ce", 0.05)
    assert loss == "cbdice" and "significantly better than the reference dice_ce on dsc" in reason
    assert "Holm p = 0.01" in reason
    loss, reason = winning_loss(COMPARISONS, "cldice", "dice_ce", 0.05)
    assert loss == "dice_ce" and "no loss is significantly better" in reason


def test_of_several_better_losses_the_best_mean_wins_and_the_others_are_named() -> None:
    both = pd.DataFrame([_comparison("cbdice", "masd", "better", 1.5), _comparison("cldice", "masd", "better", 1.2)])
    loss, reason = winning_loss(both, "masd", "dice_ce", 0.05)
    assert loss == "cldice"  # a distance: lower is better
    assert "also better than the reference: cbdice (not tested against each other" in reason


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
    with pytest.raises(ValueError, match="'latest' is not a registry alias"):
        PromotionParams(reference_alias="latest")
    assert PromotionParams(reference_alias="").reference_alias == ""
