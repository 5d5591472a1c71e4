"""Simulated studies that check the comparisons' error rates: calibration by simulation.

A simulated study is a nested k-fold study of several losses, each volume tested by one fold,
every (loss, fold, seed) run a draw of training noise. A volume's DSC under a run is

    dsc = base[v] + effect[loss] + persistent[loss, v] + run[loss, fold, seed] + residual

``persistent`` (``volume_sd``): how much the loss suits that volume, the same for every seed;
``run`` (``run_sd``): one draw per trained network, shared by the volumes it scores;
``residual`` (``residual_sd``): the rest. The study's values go through the report's own
:func:`~minivess_kedro.reporting.comparisons.compare_to_reference`, so the rates are those of the
code that writes the verdicts. bench/verdict_calibration.py prints the table of
docs/study_design.md; tests/reporting/test_reporting_calibration.py checks it on fewer studies.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from minivess_kedro.metrics import holm_correction
from minivess_kedro.reporting.comparisons import compare_to_reference
from minivess_kedro.reporting.report_settings import ReportSettings

REFERENCE = "loss_00"


@dataclass(frozen=True)
class StudyShape:
    """What a simulated study looks like.

    Attributes:
        n_losses: losses, the reference among them.
        n_folds: outer folds (each volume tested by one).
        n_seeds: training seeds per loss and fold.
        n_volumes: volumes.
        run_sd: SD of a run's shift of every volume it scores (training noise).
        volume_sd: SD of the persistent loss x volume effect.
        residual_sd: SD of the remaining per-(run, volume) noise.
        base_sd: SD of the volumes' common difficulty (cancels in paired differences).
    """

    n_losses: int = 12
    n_folds: int = 3
    n_seeds: int = 3
    n_volumes: int = 70
    run_sd: float = 0.01
    volume_sd: float = 0.03
    residual_sd: float = 0.01
    base_sd: float = 0.08


def losses(shape: StudyShape) -> list[str]:
    """The simulated losses' names, the reference first."""
    return [f"loss_{i:02d}" for i in range(shape.n_losses)]


def simulate_values(rng: np.random.Generator, shape: StudyShape, effects: Sequence[float] = ()) -> pd.DataFrame:
    """The values table (as :func:`~minivess_kedro.reporting.values.run_values` makes it) of one study.

    Args:
        rng: the random generator.
        shape: the study.
        effects: true DSC effect of each loss after the reference (missing ones: 0).

    Returns:
        ``loss``, ``fold_idx``, ``seed``, ``id``, ``metric`` (``dsc``), ``postprocessing``, ``value``.
    """
    names = losses(shape)
    effect = np.zeros(shape.n_losses)
    effect[1 : 1 + len(effects)] = effects
    fold_of = np.arange(shape.n_volumes) % shape.n_folds
    base = 0.75 + rng.normal(0, shape.base_sd, shape.n_volumes)
    persistent = rng.normal(0, shape.volume_sd, (shape.n_losses, shape.n_volumes))
    run = rng.normal(0, shape.run_sd, (shape.n_losses, shape.n_folds, shape.n_seeds))
    residual = rng.normal(0, shape.residual_sd, (shape.n_losses, shape.n_seeds, shape.n_volumes))
    # value[loss, seed, volume]: the run is the (loss, fold of the volume, seed) cell
    value = (
        base[None, None, :]
        + effect[:, None, None]
        + persistent[:, None, :]
        + run[:, fold_of, :].transpose(0, 2, 1)
        + residual
    )
    loss_index, seed_index, volume_index = np.meshgrid(
        np.arange(shape.n_losses), np.arange(shape.n_seeds), np.arange(shape.n_volumes), indexing="ij"
    )
    return pd.DataFrame(
        {
            "loss": np.array(names)[loss_index.ravel()],
            "fold_idx": fold_of[volume_index.ravel()],
            "seed": seed_index.ravel(),
            "id": np.char.add("v", volume_index.ravel().astype(str)),
            "metric": "dsc",
            "postprocessing": "none",
            "value": value.ravel(),
        }
    )


def _settings() -> ReportSettings:
    return ReportSettings(reference_loss=REFERENCE, metrics=("dsc",), primary_metrics=("dsc",))


def verdicts(values: pd.DataFrame, shape: StudyShape) -> pd.DataFrame:
    """The report's ``verdict`` and unadjusted ``p_value`` on each loss (index) of one simulated study."""
    table, _ = compare_to_reference(values, losses(shape), _settings())
    return table.set_index("loss")[["verdict", "p_value"]]


def volume_wilcoxon_verdicts(values: pd.DataFrame, shape: StudyShape, alpha: float = 0.05) -> pd.DataFrame:
    """The verdicts of the method the report used before (each volume one unit, its seeds averaged,
    two-sided Wilcoxon signed-rank, Holm over the losses, direction from the mean): the contrast."""
    means = values.groupby(["loss", "id"])["value"].mean().unstack("id")
    others = losses(shape)[1:]
    differences = means.loc[others].to_numpy() - means.loc[REFERENCE].to_numpy()[None, :]
    p_value = stats.wilcoxon(differences, axis=1).pvalue
    direction = np.where(differences.mean(axis=1) > 0, "better", "worse")
    verdict = np.where(holm_correction(p_value) <= alpha, direction, "not significant")
    return pd.DataFrame({"verdict": verdict, "p_value": p_value}, index=others)


@dataclass(frozen=True)
class Rates:
    """Error rates and power over simulated studies, with their Monte Carlo standard errors.

    Attributes:
        studies: simulated studies.
        unadjusted: fraction of null comparisons whose own test (before Holm) has p <= 0.05: the
            test's calibration, nominally 0.05 (NaN p-values count as no rejection).
        unadjusted_se: its binomial standard error.
        per_test: fraction of null comparisons called better or worse (after Holm).
        per_test_se: its binomial standard error (over ``studies * null losses`` tests).
        family_wise: fraction of studies with at least one null comparison called better or worse.
        family_wise_se: its standard error.
        power: fraction of studies calling the loss with a true effect better (NaN: no effect).
        power_se: its standard error.
        testable: fraction of comparisons that could be tested at all.
    """

    studies: int
    unadjusted: float
    unadjusted_se: float
    per_test: float
    per_test_se: float
    family_wise: float
    family_wise_se: float
    power: float
    power_se: float
    testable: float


def _binomial(hits: int, n: int) -> tuple[float, float]:
    rate = hits / n
    return rate, float(np.sqrt(rate * (1 - rate) / n))


def error_rates(shape: StudyShape, studies: int, seed: int, effect: float = 0.0, method: str = "report") -> Rates:
    """Simulate ``studies`` studies; loss 1 has a true ``effect`` (0: every loss is null).

    Args:
        shape: the study.
        studies: how many.
        seed: the generator's seed (same seed, same rates).
        effect: true DSC difference of loss 1 to the reference.
        method: ``report`` (the report's comparisons) or ``volume_wilcoxon`` (the former method).

    Returns:
        The :class:`Rates`; the null losses are losses 2.. when ``effect`` is non-zero.
    """
    rng = np.random.default_rng(seed)
    names = losses(shape)
    null = names[2:] if effect else names[1:]
    false, raw, families, found, tested = 0, 0, 0, 0, 0
    for _ in range(studies):
        values = simulate_values(rng, shape, [effect])
        called = verdicts(values, shape) if method == "report" else volume_wilcoxon_verdicts(values, shape)
        wrong = called.loc[null, "verdict"].isin(["better", "worse"])
        false += int(wrong.sum())
        raw += int((called.loc[null, "p_value"] <= 0.05).sum())
        families += int(wrong.any())
        found += int(effect != 0 and called.loc[names[1], "verdict"] == ("better" if effect > 0 else "worse"))
        tested += int((called["verdict"] != "not testable").sum())
    unadjusted, unadjusted_se = _binomial(raw, studies * len(null))
    per_test, per_test_se = _binomial(false, studies * len(null))
    family_wise, family_wise_se = _binomial(families, studies)
    power, power_se = _binomial(found, studies) if effect else (float("nan"), float("nan"))
    return Rates(
        studies,
        unadjusted,
        unadjusted_se,
        per_test,
        per_test_se,
        family_wise,
        family_wise_se,
        power,
        power_se,
        tested / (studies * (len(names) - 1)),
    )
