"""The detectable difference against hand-computed values."""

from __future__ import annotations

import math

import pytest

from minivess_kedro.reporting.power import detectable_difference, smallest_p_value


@pytest.mark.parametrize(
    ("sd", "n", "alpha", "m", "expected"),
    [
        # z_{1-0.05/4} = 2.241403, z_0.8 = 0.841621, sum 3.083024; sqrt(10 * 3/pi) = 3.090194
        (1.0, 10, 0.05, 2, 3.083024 / 3.090194),
        # z_{1-0.05/2} = 1.959964, sum 2.801585; sqrt(6 * 3/pi) = 2.393648
        (0.5, 6, 0.05, 1, 0.5 * 2.801585 / 2.393648),
        # m = 12: z_{1-0.05/24} = 2.865260, sum 3.706881; sqrt(10 * 3/pi) = 3.090194
        (0.02, 10, 0.05, 12, 0.02 * 3.706881 / 3.090194),
    ],
)
def test_detectable_difference_matches_hand_computed_values(sd, n, alpha, m, expected) -> None:
    assert detectable_difference(sd, n, alpha, m) == pytest.approx(expected, rel=1e-5)


def test_no_difference_is_detectable_when_the_smallest_p_is_too_large() -> None:
    # 5 pairs: smallest two-sided p 2/32 = 0.0625 > 0.05; 6 pairs: 0.03125 <= 0.05 but > 0.05/2
    assert smallest_p_value(5) == pytest.approx(0.0625)
    assert detectable_difference(1.0, 5, 0.05, 1) == math.inf
    assert math.isfinite(detectable_difference(1.0, 6, 0.05, 1))
    assert detectable_difference(1.0, 6, 0.05, 2) == math.inf
    assert detectable_difference(1.0, 0, 0.05, 1) == math.inf


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="need m >= 1"):
        detectable_difference(1.0, 10, 0.05, 0)
