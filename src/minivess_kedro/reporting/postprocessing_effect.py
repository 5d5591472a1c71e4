"""Effect of each post-processing on every metric, relative to the raw prediction (``none``)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import pandas as pd

from minivess_kedro.reporting.clustered import clustered_difference
from minivess_kedro.reporting.pairing import pair_values
from minivess_kedro.reporting.records import NO_POSTPROCESSING
from minivess_kedro.reporting.report_settings import ReportSettings
from minivess_kedro.reporting.values import fold_means

#: Columns of the post-processing effect table.
EFFECT_COLUMNS: tuple[str, ...] = (
    "loss",
    "postprocessing",
    "metric",
    "n_folds",
    "mean",
    "diff_to_none",
    "ci_low",
    "ci_high",
    "n_volumes",
)


def _effect(rows: pd.DataFrame, raw: pd.DataFrame | None, metric: str, settings: ReportSettings) -> dict:
    """One loss x post-processing x metric: ``rows`` post-processed, ``raw`` the ``none`` rows."""
    per_fold = fold_means(rows)["value"]
    paired = pair_values(rows, raw if raw is not None else rows.iloc[:0])
    diff, low, high = math.nan, math.nan, math.nan
    if paired.n_pairs:
        # The same run-aware model as the loss comparisons: a post-processing helps some networks more.
        result = clustered_difference(paired.differences, settings.confidence_level)
        diff, low, high = result.estimate, result.ci_low, result.ci_high
    return {
        "metric": metric,
        "n_folds": int(rows["fold_idx"].nunique()),
        "mean": float(per_fold.mean()),
        "diff_to_none": diff,
        "ci_low": low,
        "ci_high": high,
        "n_volumes": paired.n_volumes,
    }


def postprocessing_effect(values: pd.DataFrame, losses: Sequence[str], settings: ReportSettings) -> pd.DataFrame:
    """Per loss x post-processing x metric: mean over folds and paired difference to ``none``.

    Args:
        values: values rows of the losses, every post-processing.
        losses: the losses, in row order.
        settings: metrics and confidence level.

    Returns:
        A table with :data:`EFFECT_COLUMNS`: ``mean`` is the mean over folds of the fold means;
        ``diff_to_none`` the mean paired difference (post-processed - raw) on the common
        (fold, seed, volume) cells with its run-aware t interval
        (:func:`~minivess_kedro.reporting.clustered.clustered_difference`: NaN with one run per
        fold); NaN where a loss has no ``none`` rows. ``none`` itself is listed with a difference of 0.
    """
    groups = dict(list(values.groupby(["loss", "postprocessing", "metric"], sort=False)))
    rows = []
    for loss in losses:
        found = {post for (of, post, _) in groups if of == loss}
        for post in sorted(found, key=lambda p: (p != NO_POSTPROCESSING, p)):
            for metric in settings.metrics:
                raw = groups.get((loss, NO_POSTPROCESSING, metric))
                effect = _effect(groups[loss, post, metric], raw, metric, settings)
                rows.append({"loss": loss, "postprocessing": post, **effect})
    return pd.DataFrame(rows, columns=list(EFFECT_COLUMNS))
