"""Typed ``reporting`` parameters."""

from __future__ import annotations

import re

from pydantic import Field, field_validator, model_validator

from minivess_kedro.metrics import METRIC_KEYS
from minivess_kedro.pipelines.params_base import BootstrapParams, StrictParams
from minivess_kedro.reporting.report_settings import DEFAULT_MARGINS, DEFAULT_PRIMARY

_ALIAS = re.compile(r"^[A-Za-z][\w-]*$")


class PromotionParams(StrictParams):
    """``reporting.promotion``: the registry aliases the report sets on the versions it judged best.

    Attributes:
        enabled: set the aliases (false: the report still says where they would point).
        metrics: one ``best-<metric>`` alias each (metrics of the report).
        reference_alias: the alias of the reference loss's model; empty for none.
    """

    enabled: bool = True
    metrics: tuple[str, ...] = ("dsc", "cldice")
    reference_alias: str = "reference"

    @field_validator("metrics")
    @classmethod
    def _known_metrics(cls, metrics: tuple[str, ...]) -> tuple[str, ...]:
        unknown = sorted(set(metrics) - set(METRIC_KEYS))
        if unknown or len(set(metrics)) != len(metrics):
            raise ValueError(f"unknown or repeated metrics {unknown or list(metrics)}; choose from {list(METRIC_KEYS)}")
        return metrics

    @field_validator("reference_alias")
    @classmethod
    def _alias_name(cls, alias: str) -> str:
        if alias and (not _ALIAS.match(alias) or alias == "latest" or re.match(r"^v\d+$", alias)):
            raise ValueError(f"{alias!r} is not a registry alias: letters, digits, '_' and '-', not 'latest' or v<N>")
        return alias

    @model_validator(mode="after")
    def _distinct_aliases(self) -> PromotionParams:
        if self.reference_alias in {f"best-{metric}" for metric in self.metrics}:
            raise ValueError(f"reference_alias {self.reference_alias!r} is also the alias of a promoted metric")
        return self


class ReportingParams(StrictParams):
    """``reporting:`` in ``parameters_reporting.yml``.

    Attributes:
        reference_loss: every other loss is compared with this one.
        postprocessing: which predictions the main tables use (``none`` = raw argmax).
        primary_metrics: the metrics verdicts and promotions are about (one Holm family of
            losses x primary metrics; the promoted metrics must be among them).
        non_inferiority_margins: per primary metric, how much worse than the reference a
            promoted loss may be on it (its interval must exclude worse); distances in the
            tables' unit.
        restrict_to_shared_cells: on an incomplete grid, report on the (fold, seed) cells every
            loss has (and promote nothing) instead of failing.
        run_ids: report on these MLflow runs only (default: every finished, evaluated run of the
            env's experiment; the latest per loss and fold).
        predictions_root: where the evaluation wrote predictions (``<loss>/fold_<k>/predictions``),
            read for the example figure.
        bootstrap: confidence intervals.
        promotion: registry aliases on the winning models (docs/using_the_model.md).
    """

    reference_loss: str = "dice_ce"
    postprocessing: str = "none"
    primary_metrics: tuple[str, ...] = DEFAULT_PRIMARY
    non_inferiority_margins: dict[str, float] = Field(default_factory=lambda: dict(DEFAULT_MARGINS))
    restrict_to_shared_cells: bool = False
    run_ids: tuple[str, ...] = ()
    predictions_root: str
    bootstrap: BootstrapParams = BootstrapParams()
    promotion: PromotionParams = PromotionParams()

    @field_validator("primary_metrics")
    @classmethod
    def _known_primary(cls, metrics: tuple[str, ...]) -> tuple[str, ...]:
        return PromotionParams._known_metrics(metrics)

    @field_validator("non_inferiority_margins")
    @classmethod
    def _margins(cls, margins: dict[str, float]) -> dict[str, float]:
        unknown = sorted(set(margins) - set(METRIC_KEYS))
        negative = sorted(m for m, v in margins.items() if v < 0)
        if unknown or negative:
            raise ValueError(f"unknown metrics {unknown} or negative margins {negative}; metrics: {list(METRIC_KEYS)}")
        return margins

    @model_validator(mode="after")
    def _promoted_are_primary(self) -> ReportingParams:
        outside = [m for m in self.promotion.metrics if m not in self.primary_metrics]
        if outside:
            raise ValueError(
                f"promotion.metrics {outside} are not among primary_metrics {list(self.primary_metrics)}: a promoted "
                "metric's test must be in the primary Holm family"
            )
        missing = [m for m in self.primary_metrics if m not in self.non_inferiority_margins]
        if missing:
            raise ValueError(f"non_inferiority_margins has no margin for the primary metrics {missing}")
        return self
