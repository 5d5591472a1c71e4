"""Bootstrap confidence intervals (``scipy.stats.bootstrap``) with a fixed seed.

Degenerate inputs are handled explicitly instead of surfacing scipy warnings and NaNs: fewer
than two values give a NaN interval (there is no spread to resample), identical values give the
zero-width interval at that value.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy import stats

log = logging.getLogger(__name__)

#: ``scipy.stats.bootstrap`` interval methods.
BOOTSTRAP_METHODS: tuple[str, ...] = ("BCa", "percentile", "basic")


def check_bootstrap_args(method: str, n_resamples: int, confidence_level: float) -> str:
    """Validate the bootstrap settings and return the canonical method name.

    Raises:
        ValueError: on an unknown method, a non-positive ``n_resamples`` or a confidence level
            outside (0, 1).
    """
    canonical = {m.lower(): m for m in BOOTSTRAP_METHODS}.get(str(method).lower())
    if canonical is None:
        raise ValueError(f"method must be one of {BOOTSTRAP_METHODS}, got {method!r}.")
    if isinstance(n_resamples, bool) or not isinstance(n_resamples, int) or n_resamples < 1:
        raise ValueError(f"n_resamples must be a positive integer, got {n_resamples!r}.")
    if not 0.0 < float(confidence_level) < 1.0:
        raise ValueError(f"confidence_level must lie in (0, 1), got {confidence_level!r}.")
    return canonical


@dataclass(frozen=True)
class BootstrapSettings:
    """The confidence-interval settings of every summary and comparison: their one definition
    (the functions below, the report settings and the ``bootstrap`` parameters take their
    defaults from :data:`DEFAULT_BOOTSTRAP`), checked by :func:`check_bootstrap_args`."""

    method: str = "BCa"
    n_resamples: int = 10_000
    confidence_level: float = 0.95
    seed: int = 42

    def __post_init__(self) -> None:
        object.__setattr__(self, "method", check_bootstrap_args(self.method, self.n_resamples, self.confidence_level))


DEFAULT_BOOTSTRAP = BootstrapSettings()


def _mean(x: np.ndarray, axis: int = -1) -> np.ndarray:
    return np.mean(x, axis=axis)


def _mean_difference(a: np.ndarray, b: np.ndarray, axis: int = -1) -> np.ndarray:
    return np.mean(a, axis=axis) - np.mean(b, axis=axis)


def _interval(
    data: tuple[np.ndarray, ...],
    statistic: Callable[..., np.ndarray],
    *,
    paired: bool,
    method: str,
    n_resamples: int,
    confidence_level: float,
    seed: int,
) -> tuple[float, float]:
    result = stats.bootstrap(
        data,
        statistic,
        n_resamples=n_resamples,
        vectorized=True,
        paired=paired,
        confidence_level=confidence_level,
        method=method,
        rng=np.random.default_rng(seed),
    )
    low, high = result.confidence_interval
    if math.isnan(low) or math.isnan(high):
        log.warning("bootstrap %s interval is NaN (degenerate resamples).", method)
    return float(low), float(high)


def bootstrap_mean_ci(
    values: np.ndarray,
    *,
    method: str = DEFAULT_BOOTSTRAP.method,
    n_resamples: int = DEFAULT_BOOTSTRAP.n_resamples,
    confidence_level: float = DEFAULT_BOOTSTRAP.confidence_level,
    seed: int = DEFAULT_BOOTSTRAP.seed,
) -> tuple[float, float]:
    """Bootstrap confidence interval of the mean of ``values`` (shape ``(N,)``, no NaN).

    Args:
        values: one value per volume.
        method: ``"BCa"``, ``"percentile"`` or ``"basic"``.
        n_resamples: number of bootstrap resamples.
        confidence_level: e.g. 0.95.
        seed: seed of the resampling generator (same seed, same interval).

    Returns:
        ``(low, high)``; NaN for fewer than 2 values; ``(v, v)`` if all values equal ``v``.
    """
    method = check_bootstrap_args(method, n_resamples, confidence_level)
    values = np.asarray(values, dtype=np.float64)
    if values.size < 2:
        return math.nan, math.nan
    if np.all(values == values[0]):
        return float(values[0]), float(values[0])
    return _interval(
        (values,),
        _mean,
        paired=False,
        method=method,
        n_resamples=n_resamples,
        confidence_level=confidence_level,
        seed=seed,
    )


def bootstrap_paired_difference_ci(
    a: np.ndarray,
    b: np.ndarray,
    *,
    method: str = DEFAULT_BOOTSTRAP.method,
    n_resamples: int = DEFAULT_BOOTSTRAP.n_resamples,
    confidence_level: float = DEFAULT_BOOTSTRAP.confidence_level,
    seed: int = DEFAULT_BOOTSTRAP.seed,
) -> tuple[float, float]:
    """Paired bootstrap interval of mean(a) - mean(b) (volumes resampled together).

    Args:
        a: values of run A, shape ``(N,)``.
        b: values of run B on the same volumes in the same order, shape ``(N,)``.
        method, n_resamples, confidence_level, seed: as :func:`bootstrap_mean_ci`.

    Returns:
        ``(low, high)`` with the same degenerate-case rules as :func:`bootstrap_mean_ci`.
    """
    method = check_bootstrap_args(method, n_resamples, confidence_level)
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"a and b must have the same shape, got {a.shape} and {b.shape}.")
    if a.size < 2:
        return math.nan, math.nan
    diff = a - b
    if np.all(diff == diff[0]):
        return float(diff[0]), float(diff[0])
    return _interval(
        (a, b),
        _mean_difference,
        paired=True,
        method=method,
        n_resamples=n_resamples,
        confidence_level=confidence_level,
        seed=seed,
    )
