"""What the design can detect: the smallest p-value a test can reach and the detectable difference."""

from __future__ import annotations

import math

import numpy as np
from scipy import stats

#: Asymptotic relative efficiency of the Wilcoxon signed-rank test vs the paired t test (normal data).
WILCOXON_ARE = 3.0 / math.pi


def smallest_p_value(n: int) -> float:
    """The smallest two-sided Wilcoxon p-value ``n`` pairs can give (every difference of one sign)."""
    return float(stats.wilcoxon(np.arange(1.0, n + 1.0)).pvalue) if n > 0 else 1.0


def detectable_difference(sd: float, n_nonzero: int, alpha: float, m: int, power: float = 0.8) -> float:
    """The smallest mean paired difference a Holm-corrected Wilcoxon test detects with ``power``.

    Normal approximation at Holm's first step (level ``alpha / m``, two-sided), the paired t
    test's sample size scaled by the Wilcoxon test's asymptotic relative efficiency 3/pi:

    ``detectable = (z_{1 - alpha / (2 m)} + z_{power}) * sd / sqrt(n_nonzero * 3 / pi)``.

    The Wilcoxon test drops zero differences, so ``n_nonzero`` (not the number of pairs) is its
    sample size. When even ``n_nonzero`` differences of one sign cannot give
    ``p <= alpha / m`` (:func:`smallest_p_value`), no difference is detectable: ``inf``.

    Args:
        sd: standard deviation of the per-unit paired differences.
        n_nonzero: units whose paired difference is not 0.
        alpha: family-wise error rate.
        m: size of the Holm family (losses compared with the reference), at least 1.
        power: wanted power, in (0, 1).

    Returns:
        The detectable difference in the metric's units (``inf`` when none is possible, NaN when
        ``sd`` is NaN).

    Raises:
        ValueError: on ``m < 1``, ``alpha`` or ``power`` outside (0, 1), or a negative ``n_nonzero``.
    """
    if m < 1 or not 0.0 < alpha < 1.0 or not 0.0 < power < 1.0 or n_nonzero < 0:
        raise ValueError(
            f"need m >= 1, alpha and power in (0, 1), n_nonzero >= 0; got m={m}, alpha={alpha}, "
            f"power={power}, n_nonzero={n_nonzero}."
        )
    if smallest_p_value(n_nonzero) > alpha / m:
        return math.inf
    z = stats.norm.ppf(1.0 - alpha / (2 * m)) + stats.norm.ppf(power)
    return float(z * sd / math.sqrt(n_nonzero * WILCOXON_ARE))
