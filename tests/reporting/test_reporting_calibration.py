"""Calibration by simulation: null studies through the report's own comparisons (the full table
is bench/verdict_calibration.py's; docs/study_design.md)."""

from __future__ import annotations

import numpy as np
import pytest

from minivess_kedro.reporting.calibration import StudyShape, error_rates, simulate_values

# Three Monte Carlo standard errors above nominal: a calibrated test fails this about once in 700 runs of
# the suite (fixed generator seeds: never, unless the code changes).
ALPHA = 0.05


def _bound(se: float) -> float:
    return ALPHA + 3 * se


def test_the_simulated_study_has_the_nested_shape_and_the_stated_noise() -> None:
    shape = StudyShape(n_losses=3, n_seeds=2, n_volumes=9, run_sd=0.0, volume_sd=0.0, residual_sd=0.0, base_sd=0.0)
    values = simulate_values(np.random.default_rng(0), shape, [0.02, -0.01])
    assert len(values) == 3 * 2 * 9
    assert (values.groupby("id")["fold_idx"].nunique() == 1).all()  # each volume tested by one fold
    means = values.groupby("loss")["value"].mean()
    assert list(means) == pytest.approx([0.75, 0.77, 0.74])  # no noise: the effects exactly


def test_one_seed_calls_nothing_while_the_former_volume_wilcoxon_calls_equal_losses_different() -> None:
    shape = StudyShape(n_seeds=1)
    now = error_rates(shape, 60, seed=1)
    before = error_rates(shape, 60, seed=1, method="volume_wilcoxon")
    assert now.testable == 0.0 and now.family_wise == 0.0
    assert before.family_wise > 0.3  # 12 equal losses, one seed: Holm-corrected Wilcoxon over volumes


@pytest.mark.parametrize("seeds", [3, 5])
def test_null_studies_keep_every_error_rate_at_its_nominal_level(seeds: int) -> None:
    rates = error_rates(StudyShape(n_seeds=seeds), 300, seed=100 + seeds)
    assert rates.testable == 1.0
    assert abs(rates.unadjusted - ALPHA) <= 3 * rates.unadjusted_se  # the test itself: 0.05, neither more nor less
    assert rates.per_test <= _bound(rates.per_test_se)
    assert rates.family_wise <= _bound(rates.family_wise_se)


def test_power_grows_with_seeds_and_effect() -> None:
    three = error_rates(StudyShape(n_seeds=3), 120, seed=7, effect=0.03)
    five = error_rates(StudyShape(n_seeds=5), 120, seed=7, effect=0.03)
    assert 0.6 < three.power <= five.power
    assert error_rates(StudyShape(n_seeds=5), 120, seed=8, effect=-0.03).power > 0.8  # worse is found too
