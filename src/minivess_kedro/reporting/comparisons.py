"""Paired comparisons of every loss with the reference loss, with training noise in the error.

Each comparison is :func:`~minivess_kedro.reporting.clustered.clustered_difference` on the blocks
of :func:`~minivess_kedro.reporting.pairing.pair_values`: the mean paired difference, its t test
and t interval, all three about the same estimate, with the trained network (the (fold, seed)
run) as a random effect beside the volume. Holm's correction runs over one family of (loss x
primary metric) tests, the promoted metrics among them, and over a second family of (loss x
secondary metric) tests. A verdict is ``better``/``worse`` only when Holm-significant, in the
direction of the estimate (so never with an interval containing 0), and ``not testable`` when the
design has one run per block (training noise cannot be estimated).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

from minivess_kedro.metrics import holm_correction
from minivess_kedro.reporting.clustered import clustered_difference, detectable_difference
from minivess_kedro.reporting.metric_info import higher_is_better
from minivess_kedro.reporting.pairing import pair_values
from minivess_kedro.reporting.report_settings import ReportSettings

#: Columns of the comparisons table.
COMPARISON_COLUMNS: tuple[str, ...] = (
    "loss",
    "reference",
    "metric",
    "family",
    "n_volumes",
    "n_pairs",
    "n_runs",
    "n_folds",
    "n_seeds",
    "mean_loss",
    "mean_reference",
    "mean_diff",
    "se",
    "df",
    "ci_low",
    "ci_high",
    "run_sd",
    "volume_sd",
    "detectable_diff",
    "t_statistic",
    "p_value",
    "p_holm",
    "significant",
    "verdict",
    "margin",
    "non_inferior",
    "note",
)
#: Verdicts: Holm-significant in the estimate's direction, not significant, or no test possible.
VERDICTS: tuple[str, ...] = ("better", "worse", "not significant", "not testable")
#: Seeds per fold below which no verdict is possible (training noise needs two runs to estimate).
MIN_SEEDS = 2
#: Seeds per fold the report recommends: in the calibration simulation of bench/verdict_calibration.py
#: (nested 3-fold, 70 volumes, 12 losses, run SD 0.01, volume SD 0.03; docs/study_design.md has the
#: table) 5 seeds find a true 0.02 DSC difference about 60% of the time, 3 about 40%.
SEEDS_RECOMMENDED = 5
NOT_TESTABLE = (
    "one run per fold: training noise cannot be separated from the loss's effect (needs >= {} seeds per fold)"
)


def _verdict(row: dict, metric: str, alpha: float) -> str:
    """``better``/``worse`` when Holm-significant (the sign of the tested estimate), else not."""
    if math.isnan(row["p_value"]):
        return "not testable"
    if not row["p_holm"] <= alpha:
        return "not significant"
    return "better" if (row["mean_diff"] > 0) == higher_is_better(metric) else "worse"


def _non_inferior(row: dict, metric: str, margin: float) -> bool:
    """Whether the interval excludes a loss worse than the reference by ``margin`` or more."""
    if math.isnan(margin) or math.isnan(row["ci_low"]):
        return False
    return row["ci_low"] > -margin if higher_is_better(metric) else row["ci_high"] < margin


def _one(groups: dict, loss: str, metric: str, settings: ReportSettings) -> dict:
    """One loss vs the reference on one metric (no Holm yet); ``groups`` maps (loss, metric) to rows."""
    paired = pair_values(groups[loss, metric], groups[settings.reference_loss, metric])
    row: dict = {"loss": loss, "reference": settings.reference_loss, "metric": metric, "note": ""}
    row |= {"family": "primary" if metric in settings.primary_metrics else "secondary"}
    row |= {"n_volumes": paired.n_volumes, "n_pairs": paired.n_pairs, "n_folds": paired.n_folds}
    row |= {"n_seeds": paired.n_seeds, "detectable_diff": math.nan}
    if paired.n_pairs == 0:
        nan = math.nan
        row |= dict.fromkeys(("mean_loss", "mean_reference", "mean_diff", "se", "df", "ci_low", "ci_high"), nan)
        row |= dict.fromkeys(("run_sd", "volume_sd", "t_statistic", "p_value"), nan)
        return row | {"n_runs": 0, "note": "no (fold, seed, volume) pair in common with the reference"}
    result = clustered_difference(paired.differences, settings.confidence_level)
    row |= {"mean_loss": paired.mean("a"), "mean_reference": paired.mean("b"), "mean_diff": result.estimate}
    row |= {"se": result.se, "df": result.df, "ci_low": result.ci_low, "ci_high": result.ci_high}
    row |= {"run_sd": result.sd_run, "volume_sd": result.sd_volume, "n_runs": result.n_runs}
    row |= {"t_statistic": result.statistic, "p_value": result.p_value, "_result": result}
    notes = []
    if not result.testable:
        notes.append(NOT_TESTABLE.format(MIN_SEEDS))
    if paired.n_dropped:
        notes.append(f"{paired.n_dropped} pair(s) left out: not scored by every run of their fold")
    return row | {"note": "; ".join(notes)}


def _holm(block: list[dict], alpha: float) -> None:
    """Holm-adjusted p-values over the tested rows of one family, in place; detectable differences."""
    tested = [row for row in block if not math.isnan(row["p_value"])]
    adjusted = holm_correction([row["p_value"] for row in tested]) if tested else np.array([])
    for row in block:
        row["p_holm"] = math.nan
    for row, p_holm in zip(tested, adjusted, strict=True):
        row["p_holm"] = float(p_holm)
        row["detectable_diff"] = detectable_difference(row["_result"], alpha, len(tested))


def compare_to_reference(
    values: pd.DataFrame, losses: Sequence[str], settings: ReportSettings
) -> tuple[pd.DataFrame, str | None]:
    """Every loss of ``losses`` other than the reference against the reference, per metric.

    Args:
        values: values rows of the losses (one post-processing, see
            :mod:`~minivess_kedro.reporting.values`).
        losses: the losses, in row order.
        settings: reference loss, metrics (primary and secondary), confidence level, margins.

    Returns:
        ``(table, note)``: one row per metric x loss with :data:`COMPARISON_COLUMNS`
        (``mean_diff`` = loss - reference, the tested estimate; ``se``/``df`` its standard error
        and degrees of freedom; ``ci_low``/``ci_high`` its t interval; ``run_sd`` the training
        noise of the difference, ``volume_sd`` its volume-to-volume spread; ``p_holm`` within the
        row's ``family``, NaN where nothing was tested; ``detectable_diff`` the smallest true
        difference detected with 80% power at Holm's first step; ``non_inferior`` whether the
        interval rules out a loss worse by ``margin``), and a note saying why the table is
        empty, if it is.
    """
    empty = pd.DataFrame(columns=list(COMPARISON_COLUMNS))
    if settings.reference_loss not in set(values["loss"]):
        found = sorted(set(values["loss"]))
        return (
            empty,
            f"The reference loss {settings.reference_loss!r} has no run (losses found: {found}): no comparison.",
        )
    others = [loss for loss in losses if loss != settings.reference_loss]
    if not others:
        return empty, f"Only the reference loss {settings.reference_loss!r} was run: nothing to compare with it."
    groups = dict(list(values.groupby(["loss", "metric"], sort=False)))
    rows = [_one(groups, loss, metric, settings) for metric in settings.metrics for loss in others]
    for family in ("primary", "secondary"):
        _holm([row for row in rows if row["family"] == family], settings.alpha)
    for row in rows:
        row.pop("_result", None)
        margin = settings.margin(row["metric"])
        row["significant"] = bool(row["p_holm"] <= settings.alpha)
        row["verdict"] = _verdict(row, row["metric"], settings.alpha)
        row |= {"margin": margin, "non_inferior": _non_inferior(row, row["metric"], margin)}
    return pd.DataFrame(rows)[list(COMPARISON_COLUMNS)], None


def power_caveat(comparisons: pd.DataFrame, settings: ReportSettings) -> str | None:
    """A caveat when the design cannot separate the losses from training noise (one run per fold)."""
    compared = comparisons[comparisons["n_pairs"] > 0]
    if compared.empty or not (compared["verdict"] == "not testable").any():
        return None
    return (
        "**This design cannot separate the losses from training noise.** Each fold has one run per loss, so a "
        "difference between two losses cannot be told from the difference between two trainings of the same loss: "
        "no loss is called better or worse than the reference, and only the reference is promoted. Run at least "
        f"{MIN_SEEDS} seeds per loss and fold for a test, {SEEDS_RECOMMENDED} for about 60% power at a true difference "
        "of 0.02 DSC on 70 volumes (docs/study_design.md: the calibration simulation)."
    )
