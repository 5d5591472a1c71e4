"""Typed ``reporting`` parameters."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import field_validator, model_validator

from minivess_kedro.metrics import METRIC_KEYS
from minivess_kedro.pipelines.params_base import BootstrapParams, StrictParams

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
        pairing: ``volume`` (fold-averaged per volume) or ``fold_volume`` (pooled pairs).
        run_ids: report on these MLflow runs only (default: every finished, evaluated run of the
            env's experiment; the latest per loss and fold).
        predictions_root: where the evaluation wrote predictions (``<loss>/fold_<k>/predictions``),
            read for the example figure.
        bootstrap: confidence intervals.
        promotion: registry aliases on the winning models (docs/using_the_model.md).
    """

    reference_loss: str = "dice_ce"
    postprocessing: str = "none"
    pairing: Literal["volume", "fold_volume"] = "volume"
    run_ids: tuple[str, ...] = ()
    predictions_root: str
    bootstrap: BootstrapParams = BootstrapParams()
    promotion: PromotionParams = PromotionParams()
