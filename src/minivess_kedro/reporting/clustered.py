"""A paired difference whose uncertainty counts the trained network, not only the volume.

A study scores every (fold, seed) run of two losses on the same volumes. The paired difference of
volume ``v`` under run ``r`` (same fold and seed for both losses) is modelled as

    d[v, r] = delta + u[v] + t[r] + e[v, r]

``u`` (variance ``sd_volume**2``): how much the loss helps this volume more than others, persistent
across seeds; ``t`` (``sd_run**2``): training noise, one draw per pair of trained networks, shared
by every volume that run scores; ``e``: the rest. Runs that score the same volumes form a block
(a fold under the nested protocol, every run under holdout). Within a block the table is a
two-way layout without replication, whose mean squares have the textbook expectations
``E[MS_vol] = R sd_volume**2 + sd_e**2``, ``E[MS_run] = n sd_run**2 + sd_e**2``,
``E[MS_res] = sd_e**2`` (n volumes, R runs). The estimate is the mean over volumes of each
volume's run-averaged difference, and its variance

    Var = kappa * (MS_vol + max(MS_run - MS_res, 0)),   kappa = sum_b n_b / (V**2 R_b)

(exact for balanced blocks) with Satterthwaite's degrees of freedom; the test is a t test of that
estimate and the interval its t interval, so the verdict's direction, the test and the interval
are about one number. With one run per block the training noise cannot be estimated: no test.
docs/reporting.md says why this model (and not a Wilcoxon over volumes, a run bootstrap or a
sign-flip test).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats


@dataclass(frozen=True)
class ClusteredDifference:
    """The mean paired difference and its run-aware t test.

    Attributes:
        estimate: mean over volumes of the run-averaged difference.
        se: its standard error (NaN when not testable).
        df: Satterthwaite degrees of freedom (NaN when not testable).
        statistic: ``estimate / se``.
        p_value: two-sided t-test p-value (NaN when not testable; 1 when every difference is 0).
        ci_low: lower end of the t interval at ``confidence_level``.
        ci_high: upper end.
        n_volumes: volumes.
        n_runs: pairs of runs.
        runs_per_block: fewest runs of any block (seeds per fold under the nested protocol).
        sd_volume: estimated SD of the volume effect ``u``.
        sd_run: estimated SD of the training noise ``t`` (NaN when not estimable).
        sd_residual: estimated SD of ``e`` (NaN when not estimable).
    """

    estimate: float
    se: float
    df: float
    statistic: float
    p_value: float
    ci_low: float
    ci_high: float
    n_volumes: int
    n_runs: int
    runs_per_block: int
    sd_volume: float
    sd_run: float
    sd_residual: float

    @property
    def testable(self) -> bool:
        """Whether the training noise could be estimated (at least two runs on some volumes)."""
        return not math.isnan(self.p_value)


def _sums(block: np.ndarray) -> tuple[float, float, float]:
    """``(SS_volume, SS_run, SS_residual)`` of one ``(volumes, runs)`` block."""
    grand = block.mean()
    by_volume, by_run = block.mean(axis=1), block.mean(axis=0)
    n, r = block.shape
    residual = block - by_volume[:, None] - by_run[None, :] + grand
    return (
        float(r * np.sum((by_volume - grand) ** 2)),
        float(n * np.sum((by_run - grand) ** 2)),
        float(np.sum(residual**2)),
    )


def clustered_difference(blocks: Sequence[np.ndarray], confidence_level: float = 0.95) -> ClusteredDifference:
    """The run-aware paired comparison of :mod:`this module <minivess_kedro.reporting.clustered>`.

    Args:
        blocks: per block of runs that scored the same volumes, the paired differences, shape
            ``(n_volumes_b, n_runs_b)``, no NaN; the blocks' volumes are distinct.
        confidence_level: of the t interval, in (0, 1).

    Returns:
        The :class:`ClusteredDifference`.

    Raises:
        ValueError: on no block, an empty or non-2-D block, NaN, or a bad confidence level.
    """
    if not 0.0 < confidence_level < 1.0:
        raise ValueError(f"confidence_level must lie in (0, 1), got {confidence_level}.")
    arrays = [np.asarray(b, dtype=np.float64) for b in blocks]
    if not arrays or any(b.ndim != 2 or b.size == 0 for b in arrays):
        raise ValueError(f"need non-empty 2-D (volumes, runs) blocks, got shapes {[b.shape for b in arrays]}.")
    if any(np.isnan(b).any() for b in arrays):
        raise ValueError("paired differences hold NaN: replace NaN distances first (values table).")
    n = np.array([b.shape[0] for b in arrays], dtype=np.float64)
    r = np.array([b.shape[1] for b in arrays], dtype=np.float64)
    total = float(n.sum())
    estimate = float(sum(b.mean() * nb for b, nb in zip(arrays, n, strict=True)) / total)
    sums = np.array([_sums(b) for b in arrays]).sum(axis=0)
    dfs = np.array([np.sum(n - 1), np.sum(r - 1), np.sum((n - 1) * (r - 1))])
    base = {
        "estimate": estimate,
        "n_volumes": int(total),
        "n_runs": int(r.sum()),
        "runs_per_block": int(r.min()),
    }
    if dfs[0] == 0 or dfs[1] == 0 or dfs[2] == 0:
        # One run per block: training noise and volume effect are confounded; nothing to test.
        nan = math.nan
        spread = float(np.std(np.concatenate([b.ravel() for b in arrays]), ddof=1)) if total > 1 else nan
        return ClusteredDifference(
            se=nan, df=nan, statistic=nan, p_value=nan, ci_low=nan, ci_high=nan,
            sd_volume=spread, sd_run=nan, sd_residual=nan, **base,
        )  # fmt: skip
    ms_volume, ms_run, ms_residual = sums / dfs
    kappa = float(np.sum(n / (total**2 * r)))
    terms, term_dfs = [kappa * ms_volume], [dfs[0]]
    if ms_run > ms_residual:
        terms += [kappa * ms_run, -kappa * ms_residual]
        term_dfs += [dfs[1], dfs[2]]
    variance = float(sum(terms))
    components = {
        "sd_volume": math.sqrt(max(ms_volume - ms_residual, 0.0) / float(np.mean(r))),
        "sd_run": math.sqrt(max(ms_run - ms_residual, 0.0) / float(np.mean(n))),
        "sd_residual": math.sqrt(ms_residual),
    }
    if variance <= 0.0:  # every difference equal: no spread to test against
        p = 1.0 if estimate == 0.0 else 0.0
        return ClusteredDifference(
            se=0.0, df=math.inf, statistic=math.nan if estimate == 0.0 else math.copysign(math.inf, estimate),
            p_value=p, ci_low=estimate, ci_high=estimate, **base, **components,
        )  # fmt: skip
    df = variance**2 / sum(t**2 / d for t, d in zip(terms, term_dfs, strict=True))
    se = math.sqrt(variance)
    statistic = estimate / se
    half = float(stats.t.ppf(0.5 + confidence_level / 2.0, df)) * se
    return ClusteredDifference(
        se=se,
        df=float(df),
        statistic=statistic,
        p_value=float(2.0 * stats.t.sf(abs(statistic), df)),
        ci_low=estimate - half,
        ci_high=estimate + half,
        **base,
        **components,
    )


def detectable_difference(result: ClusteredDifference, alpha: float, m: int, power: float = 0.8) -> float:
    """The smallest true difference this design detects with ``power`` at Holm's first step.

    ``(t_{1 - alpha / (2 m), df} + t_{power, df}) * se``, with the comparison's own standard error
    and degrees of freedom: training noise included (NaN when not testable).

    Args:
        result: a comparison.
        alpha: family-wise error rate, in (0, 1).
        m: Holm family size, at least 1.
        power: wanted power, in (0, 1).

    Raises:
        ValueError: on ``m < 1`` or ``alpha``/``power`` outside (0, 1).
    """
    if m < 1 or not 0.0 < alpha < 1.0 or not 0.0 < power < 1.0:
        raise ValueError(f"need m >= 1 and alpha, power in (0, 1); got m={m}, alpha={alpha}, power={power}.")
    if not result.testable:
        return math.nan
    return float((stats.t.ppf(1.0 - alpha / (2 * m), result.df) + stats.t.ppf(power, result.df)) * result.se)
