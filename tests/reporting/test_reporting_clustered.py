"""The run-aware paired test against hand-computed values and the textbook special cases."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from minivess_kedro.reporting.clustered import clustered_difference, detectable_difference


def test_hand_computed_two_by_two_block() -> None:
    # d = volume + run effects, no residual: grand 1.5; volume means 0.5, 2.5 -> SS_vol = 2 * (1 + 1) = 4;
    # run means 1, 2 -> SS_run = 2 * (0.25 + 0.25) = 1; SS_res = 0; every df 1. kappa = 2 / (4 * 2) = 0.25,
    # Var = 0.25 * (4 + 1 - 0) = 1.25; Satterthwaite df = 1.25**2 / (1**2 + 0.25**2 + 0**2) = 1.470588.
    result = clustered_difference([np.array([[0.0, 1.0], [2.0, 3.0]])])
    assert result.estimate == pytest.approx(1.5)
    assert result.se == pytest.approx(math.sqrt(1.25))
    assert result.df == pytest.approx(1.5625 / 1.0625)
    assert result.p_value == pytest.approx(2 * stats.t.sf(1.5 / math.sqrt(1.25), 1.5625 / 1.0625))
    assert (result.n_volumes, result.n_runs, result.runs_per_block) == (2, 2, 2)


def test_pure_training_noise_is_a_one_sample_t_test_of_the_run_means() -> None:
    runs = np.array([0.01, -0.02, 0.03, 0.015])
    block = np.tile(runs, (5, 1))  # every volume of a run moves together: only training noise
    result = clustered_difference([block])
    reference = stats.ttest_1samp(runs, 0.0)
    assert result.df == pytest.approx(len(runs) - 1)
    assert result.p_value == pytest.approx(reference.pvalue)
    low, high = reference.confidence_interval(0.95)
    assert (result.ci_low, result.ci_high) == pytest.approx((low, high))


def test_pure_volume_effect_is_a_one_sample_t_test_of_the_volume_means() -> None:
    volumes = np.array([0.05, -0.01, 0.02, 0.04, 0.0, 0.03])
    block = np.tile(volumes[:, None], (1, 3))  # seeds agree exactly: no training noise
    result = clustered_difference([block])
    reference = stats.ttest_1samp(volumes, 0.0)
    assert result.df == pytest.approx(len(volumes) - 1)
    assert result.p_value == pytest.approx(reference.pvalue)
    assert result.sd_run == pytest.approx(0.0)


def test_blocks_weight_each_volume_equally() -> None:
    # 2 volumes x 2 runs and 1 volume... the estimate is the mean over all volumes of their run means.
    first = np.array([[1.0, 3.0], [2.0, 2.0]])
    second = np.array([[4.0, 6.0, 5.0], [0.0, 1.0, 2.0], [3.0, 3.0, 3.0]])
    result = clustered_difference([first, second])
    assert result.estimate == pytest.approx(np.mean([2.0, 2.0, 5.0, 1.0, 3.0]))
    assert result.n_volumes == 5 and result.runs_per_block == 2


def test_one_run_per_block_is_not_testable() -> None:
    result = clustered_difference([np.array([[0.1], [0.2]]), np.array([[0.3], [0.1]])])
    assert not result.testable
    assert math.isnan(result.p_value) and math.isnan(result.ci_low) and math.isnan(result.sd_run)
    assert result.estimate == pytest.approx(0.175)
    assert math.isnan(detectable_difference(result, 0.05, 3))


def test_identical_sides_give_p_one_and_a_zero_interval() -> None:
    result = clustered_difference([np.zeros((4, 3))])
    assert result.p_value == 1.0 and (result.ci_low, result.ci_high) == (0.0, 0.0)


def test_the_interval_excludes_zero_exactly_when_p_is_below_alpha() -> None:
    rng = np.random.default_rng(3)
    for _ in range(200):
        blocks = [rng.normal(0.01, 0.03, (23, 3)) + rng.normal(0, 0.01, (1, 3)) for _ in range(3)]
        result = clustered_difference(blocks, 0.95)
        assert (result.p_value <= 0.05) == (result.ci_low > 0 or result.ci_high < 0)


def test_detectable_difference_matches_the_t_quantiles() -> None:
    result = clustered_difference([np.array([[0.0, 1.0], [2.0, 3.0]])])
    expected = (stats.t.ppf(1 - 0.05 / 6, result.df) + stats.t.ppf(0.8, result.df)) * result.se
    assert detectable_difference(result, 0.05, 3) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("blocks", "match"),
    [([], "non-empty 2-D"), ([np.zeros(3)], "non-empty 2-D"), ([np.array([[np.nan, 1.0]])], "NaN")],
)
def test_bad_blocks_are_refused(blocks, match) -> None:
    with pytest.raises(ValueError, match=match):
        clustered_difference(blocks)


def test_bad_power_arguments_are_refused() -> None:
    result = clustered_difference([np.array([[0.0, 1.0], [2.0, 3.0]])])
    with pytest.raises(ValueError, match="m >= 1"):
        detectable_difference(result, 0.05, 0)
