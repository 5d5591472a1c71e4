"""Paired comparison of runs evaluated on the same volumes (for the reporting pipeline).

For each metric and each pair of runs (A, B): the difference of means A - B with a paired
bootstrap confidence interval (volumes resampled together), a two-sided Wilcoxon signed-rank
p-value, and Holm's step-down correction across the pairs of that metric. NaN distances are
replaced by the volume diagonal first, exactly as in the per-run summary.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from minivess_kedro.metrics.aggregation import worst_case_values
from minivess_kedro.metrics.bootstrap import (
    DEFAULT_BOOTSTRAP,
    bootstrap_paired_difference_ci,
    check_bootstrap_args,
)


def holm_correction(p_values: Sequence[float]) -> np.ndarray:
    """Holm-Bonferroni adjusted p-values (step-down, monotone, capped at 1).

    ``scipy.stats`` only offers Benjamini-Hochberg/Yekutieli (``false_discovery_control``),
    which control the false discovery rate, not the family-wise error rate wanted here.

    Args:
        p_values: raw p-values, shape ``(m,)``, each in [0, 1].

    Returns:
        Adjusted p-values, shape ``(m,)``, in the input order.

    Raises:
        ValueError: if a p-value is NaN or outside [0, 1].
    """
    p = np.asarray(p_values, dtype=np.float64)
    if p.ndim != 1:
        raise ValueError(f"p_values must be one-dimensional, got shape {p.shape}.")
    if np.any(np.isnan(p)) or np.any((p < 0) | (p > 1)):
        raise ValueError(f"p_values must lie in [0, 1] without NaN, got {p.tolist()}.")
    m = p.size
    order = np.argsort(p, kind="stable")
    # k-th smallest p-value times (m - k), then a running maximum keeps the order.
    stepped = np.maximum.accumulate(p[order] * (m - np.arange(m)))
    adjusted = np.empty(m)
    adjusted[order] = np.minimum(stepped, 1.0)
    return adjusted


def _aligned(table_a: pd.DataFrame, table_b: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Both tables restricted and ordered to the same volume ids (which must match)."""
    for name, table in (("table_a", table_a), ("table_b", table_b)):
        if "id" not in table.columns:
            raise ValueError(f"{name} has no 'id' column.")
    ids_a, ids_b = set(table_a["id"]), set(table_b["id"])
    if ids_a != ids_b:
        raise ValueError(
            "paired comparison needs the same volumes in both runs: "
            f"only in A {sorted(ids_a - ids_b)}, only in B {sorted(ids_b - ids_a)}."
        )
    order = sorted(ids_a)
    return (
        table_a.set_index("id").loc[order].reset_index(),
        table_b.set_index("id").loc[order].reset_index(),
    )


def paired_comparison(
    table_a: pd.DataFrame,
    table_b: pd.DataFrame,
    metric: str,
    *,
    method: str = DEFAULT_BOOTSTRAP.method,
    n_resamples: int = DEFAULT_BOOTSTRAP.n_resamples,
    confidence_level: float = DEFAULT_BOOTSTRAP.confidence_level,
    seed: int = DEFAULT_BOOTSTRAP.seed,
) -> dict[str, Any]:
    """Compare one metric of two runs over the same volumes.

    Args:
        table_a: per-volume table of run A.
        table_b: per-volume table of run B (same ids, any order).
        metric: metric column.
        method, n_resamples, confidence_level, seed: bootstrap settings
            (see :func:`minivess_kedro.metrics.summarize_metrics`).

    Returns:
        ``metric``, ``n``, ``mean_a``, ``mean_b``, ``mean_diff`` (A - B), ``ci_low``,
        ``ci_high``, ``wilcoxon_statistic``, ``p_value`` and ``n_nan_replaced_{a,b}``. When
        every difference is 0 the p-value is 1 (no evidence of a difference).

    Raises:
        ValueError: if the volume ids differ, a table lacks the metric, or settings are bad.
    """
    method = check_bootstrap_args(method, n_resamples, confidence_level)
    a_table, b_table = _aligned(table_a, table_b)
    a, n_rep_a = worst_case_values(a_table, metric)
    b, n_rep_b = worst_case_values(b_table, metric)
    low, high = bootstrap_paired_difference_ci(
        a,
        b,
        method=method,
        n_resamples=n_resamples,
        confidence_level=confidence_level,
        seed=seed,
    )
    if np.all(a == b):
        statistic, p_value = math.nan, 1.0
    else:
        result = stats.wilcoxon(a, b, alternative="two-sided")
        statistic, p_value = float(result.statistic), float(result.pvalue)
    return {
        "metric": metric,
        "n": int(a.size),
        "mean_a": float(np.mean(a)),
        "mean_b": float(np.mean(b)),
        "mean_diff": float(np.mean(a) - np.mean(b)),
        "ci_low": low,
        "ci_high": high,
        "wilcoxon_statistic": statistic,
        "p_value": p_value,
        "n_nan_replaced_a": n_rep_a,
        "n_nan_replaced_b": n_rep_b,
    }
