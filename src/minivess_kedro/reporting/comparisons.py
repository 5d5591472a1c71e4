"""Paired comparisons of every loss with the reference loss, Holm-corrected per metric.

Each comparison is :func:`minivess_kedro.metrics.paired_comparison` (paired bootstrap interval of
the mean difference, two-sided Wilcoxon signed-rank test) on the units of
:func:`~minivess_kedro.reporting.pairing.pair_values`; Holm's correction runs across the losses
compared with the reference, separately for each metric.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from minivess_kedro.metrics import holm_correction, paired_comparison
from minivess_kedro.reporting.metric_info import higher_is_better
from minivess_kedro.reporting.pairing import pair_values
from minivess_kedro.reporting.settings import ReportSettings

#: Columns of the comparisons table.
COMPARISON_COLUMNS: tuple[str, ...] = (
    "loss",
    "reference",
    "metric",
    "n_volumes",
    "n_pairs",
    "n_folds",
    "mean_loss",
    "mean_reference",
    "mean_diff",
    "ci_low",
    "ci_high",
    "wilcoxon_statistic",
    "p_value",
    "p_holm",
    "significant",
    "verdict",
    "note",
)


def _verdict(row: dict, metric: str, alpha: float) -> str:
    """``better``/``worse`` (than the reference) when Holm-significant, else ``not significant``."""
    if not row["p_holm"] <= alpha:  # also catches NaN
        return "not significant"
    return "better" if (row["mean_diff"] > 0) == higher_is_better(metric) else "worse"


def _one(groups: dict, loss: str, metric: str, settings: ReportSettings) -> dict:
    """One loss vs the reference on one metric (no Holm yet); ``groups`` maps (loss, metric) to rows."""
    paired = pair_values(groups[loss, metric], groups[settings.reference_loss, metric], metric, settings.pairing)
    row: dict = {"loss": loss, "reference": settings.reference_loss, "metric": metric, "n_volumes": paired.n_volumes}
    row |= {"n_pairs": paired.n_pairs, "n_folds": paired.n_folds, "note": ""}
    if paired.n_pairs == 0:
        nan = math.nan
        row |= dict.fromkeys(("mean_loss", "mean_reference", "mean_diff", "ci_low", "ci_high"), nan)
        row |= {
            "wilcoxon_statistic": nan,
            "p_value": nan,
            "note": "no (fold, volume) pair in common with the reference",
        }
        return row
    result = paired_comparison(paired.a, paired.b, metric, **settings.bootstrap_kwargs())
    row |= {"mean_loss": result["mean_a"], "mean_reference": result["mean_b"], "mean_diff": result["mean_diff"]}
    row |= {k: result[k] for k in ("ci_low", "ci_high", "wilcoxon_statistic", "p_value")}
    if len(paired.a) < 2:
        row["note"] = "fewer than 2 paired units: no interval"
    return row


def compare_to_reference(
    values: pd.DataFrame, losses: Sequence[str], settings: ReportSettings
) -> tuple[pd.DataFrame, str | None]:
    """Every loss of ``losses`` other than the reference against the reference, per metric.

    Args:
        values: values rows of the losses (one post-processing, see
            :mod:`~minivess_kedro.reporting.values`).
        losses: the losses, in row order.
        settings: reference loss, metrics, pairing, bootstrap settings.

    Returns:
        ``(table, note)``: one row per metric x loss with :data:`COMPARISON_COLUMNS`
        (``mean_diff`` = loss - reference; ``p_holm`` across the losses of that metric, NaN where
        nothing could be compared), and a note saying why the table is empty, if it is.
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
    rows = []
    for metric in settings.metrics:
        block = [_one(groups, loss, metric, settings) for loss in others]
        tested = [i for i, row in enumerate(block) if not math.isnan(row["p_value"])]
        adjusted = holm_correction([block[i]["p_value"] for i in tested]) if tested else np.array([])
        for row in block:
            row["p_holm"] = math.nan
        for i, p_holm in zip(tested, adjusted, strict=True):
            block[i]["p_holm"] = float(p_holm)
        for row in block:
            row["significant"] = bool(row["p_holm"] <= settings.alpha)
            row["verdict"] = _verdict(row, metric, settings.alpha)
        rows += block
    return pd.DataFrame(rows)[list(COMPARISON_COLUMNS)], None


def smallest_p_value(n: int) -> float:
    """The smallest two-sided Wilcoxon p-value ``n`` pairs can give (every difference of one sign)."""
    return float(stats.wilcoxon(np.arange(1.0, n + 1.0)).pvalue) if n > 0 else 1.0


def power_caveat(comparisons: pd.DataFrame, settings: ReportSettings) -> str | None:
    """A caveat when too few paired units exist for any Holm-corrected test to reach significance.

    Holm's first step needs ``p <= alpha / m`` for ``m`` losses compared; with ``n`` units the
    Wilcoxon test cannot go below :func:`smallest_p_value`.
    """
    units = "n_volumes" if settings.pairing == "volume" else "n_pairs"
    compared = comparisons[comparisons["n_pairs"] > 0]
    if compared.empty:
        return None
    n = int(compared[units].max())
    m = int(compared["loss"].nunique())
    floor = smallest_p_value(n)
    if floor <= settings.alpha / m:
        return None
    return (
        f"With {n} paired {'volumes' if units == 'n_volumes' else '(fold, volume) pairs'} the smallest possible "
        f"Wilcoxon p-value is {floor:.3g}, above the {settings.alpha:.2g}/{m} = {settings.alpha / m:.3g} that Holm's "
        f"correction across {m} losses needs for a first rejection: no comparison can be significant whatever the "
        "data. Read the intervals; test on more volumes for significance."
    )
