"""Paired comparisons of every loss with the reference loss, Holm-corrected per metric.

Each comparison is :func:`minivess_kedro.metrics.paired_comparison` (paired bootstrap interval of
the mean difference, two-sided Wilcoxon signed-rank test) on the units of
:func:`~minivess_kedro.reporting.pairing.pair_values`; Holm's correction runs across the losses
compared with the reference, separately for each metric. Each row also says how much the
difference moves from seed to seed (``seed_spread``) and the smallest difference the design could
detect (``detectable_diff``, :func:`~minivess_kedro.reporting.power.detectable_difference`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

from minivess_kedro.metrics import holm_correction, paired_comparison
from minivess_kedro.reporting.metric_info import higher_is_better
from minivess_kedro.reporting.pairing import pair_values
from minivess_kedro.reporting.power import detectable_difference, smallest_p_value
from minivess_kedro.reporting.report_settings import ReportSettings

#: Columns of the comparisons table.
COMPARISON_COLUMNS: tuple[str, ...] = (
    "loss",
    "reference",
    "metric",
    "n_volumes",
    "n_pairs",
    "n_folds",
    "n_seeds",
    "n_nonzero",
    "mean_loss",
    "mean_reference",
    "mean_diff",
    "seed_spread",
    "ci_low",
    "ci_high",
    "detectable_diff",
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
    row |= {"n_pairs": paired.n_pairs, "n_folds": paired.n_folds, "n_seeds": paired.n_seeds, "note": ""}
    row |= {"seed_spread": paired.seed_spread, "detectable_diff": math.nan}
    if paired.n_pairs == 0:
        nan = math.nan
        row |= dict.fromkeys(("mean_loss", "mean_reference", "mean_diff", "ci_low", "ci_high"), nan)
        row |= {
            "n_nonzero": 0,
            "wilcoxon_statistic": nan,
            "p_value": nan,
            "note": "no (fold, seed, volume) pair in common with the reference",
        }
        return row
    result = paired_comparison(paired.a, paired.b, metric, **settings.bootstrap_kwargs())
    row |= {"mean_loss": result["mean_a"], "mean_reference": result["mean_b"], "mean_diff": result["mean_diff"]}
    differences = paired.a[metric].to_numpy() - paired.b[metric].to_numpy()
    # The signed-rank test drops zero differences: its n and the sd both come from the non-zero ones.
    nonzero = differences[differences != 0]
    row |= {"n_nonzero": int(nonzero.size), "_sd": _sd(nonzero)}
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
        nothing could be compared; ``n_seeds`` common seeds; ``seed_spread`` the standard
        deviation across them of each seed's mean difference (NaN with < 2 seeds); ``n_nonzero``
        units with a non-zero difference; ``detectable_diff`` the smallest difference the
        design could detect, see :func:`~minivess_kedro.reporting.power.detectable_difference`,
        ``inf`` when none), and a note saying why the table is empty, if it is.
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
        for i in tested:
            row = block[i]
            row["detectable_diff"] = detectable_difference(row["_sd"], row["n_nonzero"], settings.alpha, len(tested))
        rows += block
    return pd.DataFrame(rows)[list(COMPARISON_COLUMNS)], None


def _sd(differences: np.ndarray) -> float:
    """Standard deviation (ddof 1) of the (non-zero) unit differences; NaN for fewer than two."""
    return float(np.std(differences, ddof=1)) if differences.size > 1 else math.nan


def power_caveat(comparisons: pd.DataFrame, settings: ReportSettings) -> str | None:
    """A caveat when too few non-zero paired differences exist for any Holm-corrected test to be significant.

    Holm's first step needs ``p <= alpha / m`` for ``m`` losses compared; the Wilcoxon test drops
    zero differences, so with ``n`` non-zero differences (``n_nonzero``, the largest of the
    table) it cannot go below :func:`~minivess_kedro.reporting.power.smallest_p_value`.
    """
    units = "volumes" if settings.pairing == "volume" else "(fold, volume) pairs"
    compared = comparisons[comparisons["n_pairs"] > 0]
    if compared.empty:
        return None
    n = int(compared["n_nonzero"].max())
    m = int(compared["loss"].nunique())
    floor = smallest_p_value(n)
    if floor <= settings.alpha / m:
        return None
    return (
        f"With {n} non-zero paired differences (units: {units}) the smallest possible "
        f"Wilcoxon p-value is {floor:.3g}, above the {settings.alpha:.2g}/{m} = {settings.alpha / m:.3g} that Holm's "
        f"correction across {m} losses needs for a first rejection: no comparison can be significant whatever the "
        "data. Read the intervals; test on more volumes for significance."
    )
