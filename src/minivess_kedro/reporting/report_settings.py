"""Settings of one report: reference loss, metrics, post-processing, bootstrap and test families."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

from minivess_kedro.metrics import METRIC_KEYS
from minivess_kedro.metrics.bootstrap import DEFAULT_BOOTSTRAP, check_bootstrap_args

#: The primary metrics when none are named (those of them that are reported).
DEFAULT_PRIMARY: tuple[str, ...] = ("dsc", "cldice", "hd95")
#: Non-inferiority margins, in each metric's unit (distances in the tables' unit, µm by default).
DEFAULT_MARGINS: Mapping[str, float] = {"dsc": 0.01, "cldice": 0.01, "nsd": 0.01, "hd95": 2.0, "masd": 1.0}


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
        primary_metrics: the metrics the verdicts and promotions are about: one Holm family of
            (loss x primary metric) tests; the other metrics form a second family. Empty: those
            of :data:`DEFAULT_PRIMARY` that are reported (else the first metric).
        non_inferiority_margins: per metric, how much worse than the reference a loss may be
            and still count as not worse (its interval must exclude a larger loss); a primary
            metric without one takes :data:`DEFAULT_MARGINS`.
        restrict_to_shared_cells: on an incomplete grid (losses run on different (fold, seed)
            cells), report on the cells every loss has (and promote nothing) instead of raising.

    Raises:
        ValueError: on an empty reference loss or metric list, repeated metrics, a primary
            metric that is not reported, a negative or missing margin or bad bootstrap settings.
    """

    reference_loss: str = "dice_ce"
    metrics: tuple[str, ...] = METRIC_KEYS
    postprocessing: str = "none"
    bootstrap_method: str = DEFAULT_BOOTSTRAP.method
    n_resamples: int = DEFAULT_BOOTSTRAP.n_resamples
    confidence_level: float = DEFAULT_BOOTSTRAP.confidence_level
    seed: int = DEFAULT_BOOTSTRAP.seed
    primary_metrics: tuple[str, ...] = ()
    non_inferiority_margins: Mapping[str, float] = field(default_factory=dict)
    restrict_to_shared_cells: bool = False

    def __post_init__(self) -> None:
        method = check_bootstrap_args(self.bootstrap_method, self.n_resamples, self.confidence_level)
        object.__setattr__(self, "bootstrap_method", method)
        object.__setattr__(self, "metrics", tuple(self.metrics))
        if not self.reference_loss:
            raise ValueError("reference_loss is empty: name the loss the others are compared with.")
        if not self.metrics or len(set(self.metrics)) != len(self.metrics):
            raise ValueError(f"metrics must be a non-empty list without repeats, got {list(self.metrics)}.")
        primary = tuple(self.primary_metrics) or (
            tuple(m for m in DEFAULT_PRIMARY if m in self.metrics) or self.metrics[:1]
        )
        unknown = sorted(set(primary) - set(self.metrics))
        if unknown or len(set(primary)) != len(primary):
            raise ValueError(
                f"primary_metrics {list(primary)}: {unknown or 'repeats'} not among the reported metrics "
                f"{list(self.metrics)}."
            )
        object.__setattr__(self, "primary_metrics", primary)
        margins = {**{m: DEFAULT_MARGINS[m] for m in primary if m in DEFAULT_MARGINS}, **self.non_inferiority_margins}
        bad = {m: v for m, v in margins.items() if not (isinstance(v, int | float) and v >= 0)}
        missing = sorted(set(primary) - set(margins))
        if bad or missing:
            raise ValueError(
                f"non_inferiority_margins: {'negative or not a number ' + str(bad) if bad else ''}"
                f"{'no margin for primary metrics ' + str(missing) if missing else ''}."
            )
        object.__setattr__(self, "non_inferiority_margins", {m: float(v) for m, v in margins.items()})
        if not self.postprocessing:
            raise ValueError("postprocessing is empty: use 'none' for the raw predictions.")

    @property
    def alpha(self) -> float:
        """Family-wise error rate of the Holm-corrected tests."""
        return 1.0 - self.confidence_level

    def margin(self, metric: str) -> float:
        """The non-inferiority margin of ``metric`` (NaN when it has none)."""
        return self.non_inferiority_margins.get(metric, math.nan)

    def bootstrap_kwargs(self) -> dict:
        """Keyword arguments of the metrics package's bootstrap functions."""
        return {
            "method": self.bootstrap_method,
            "n_resamples": self.n_resamples,
            "confidence_level": self.confidence_level,
            "seed": self.seed,
        }
