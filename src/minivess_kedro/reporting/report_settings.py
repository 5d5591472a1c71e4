"""Settings of one report: reference loss, metrics, post-processing and bootstrap."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from minivess_kedro.metrics import METRIC_KEYS
from minivess_kedro.metrics.bootstrap import DEFAULT_BOOTSTRAP, check_bootstrap_args

Pairing = Literal["volume", "fold_volume"]
PAIRINGS: tuple[str, ...] = ("volume", "fold_volume")


@dataclass(frozen=True)
class ReportSettings:
    """What the report compares and how.

    Attributes:
        reference_loss: the loss every other loss is compared with.
        metrics: metric columns reported, in order.
        postprocessing: which post-processing rows the main tables use (``none`` = raw argmax).
        bootstrap_method: ``scipy.stats.bootstrap`` method, ``BCa``, ``percentile`` or ``basic``.
        n_resamples: bootstrap resamples.
        confidence_level: of every interval; ``1 - confidence_level`` is also the family-wise
            error rate of the Holm-corrected tests.
        seed: bootstrap seed (the same inputs and seed give the same report).
        pairing: unit of the paired statistics. ``volume`` (default): a loss's fold-k run is
            paired with the reference's fold-k run on each common volume, and each volume's
            paired values are averaged over the common folds, so that n is the number of test
            volumes. ``fold_volume``: the (fold, volume) pairs are pooled as if independent (the
            same test volume then counts once per fold; p-values come out smaller than the data
            support, see docs/reporting.md).

    Raises:
        ValueError: on an empty reference loss or metric list, repeated metrics, an unknown
            pairing or bad bootstrap settings.
    """

    reference_loss: str = "dice_ce"
    metrics: tuple[str, ...] = METRIC_KEYS
    postprocessing: str = "none"
    bootstrap_method: str = DEFAULT_BOOTSTRAP.method
    n_resamples: int = DEFAULT_BOOTSTRAP.n_resamples
    confidence_level: float = DEFAULT_BOOTSTRAP.confidence_level
    seed: int = DEFAULT_BOOTSTRAP.seed
    pairing: Pairing = "volume"

    def __post_init__(self) -> None:
        method = check_bootstrap_args(self.bootstrap_method, self.n_resamples, self.confidence_level)
        object.__setattr__(self, "bootstrap_method", method)
        object.__setattr__(self, "metrics", tuple(self.metrics))
        if not self.reference_loss:
            raise ValueError("reference_loss is empty: name the loss the others are compared with.")
        if not self.metrics or len(set(self.metrics)) != len(self.metrics):
            raise ValueError(f"metrics must be a non-empty list without repeats, got {list(self.metrics)}.")
        if self.pairing not in PAIRINGS:
            raise ValueError(f"pairing must be one of {PAIRINGS}, got {self.pairing!r}.")
        if not self.postprocessing:
            raise ValueError("postprocessing is empty: use 'none' for the raw predictions.")

    @property
    def alpha(self) -> float:
        """Family-wise error rate of the Holm-corrected tests."""
        return 1.0 - self.confidence_level

    def bootstrap_kwargs(self) -> dict:
        """Keyword arguments of the metrics package's bootstrap functions."""
        return {
            "method": self.bootstrap_method,
            "n_resamples": self.n_resamples,
            "confidence_level": self.confidence_level,
            "seed": self.seed,
        }
