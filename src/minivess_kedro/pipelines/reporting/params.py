"""Typed ``reporting`` parameters."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ReportBootstrapParams(_Strict):
    method: Literal["BCa", "percentile", "basic"] = "BCa"
    n_resamples: int = Field(10_000, ge=100)
    confidence_level: float = Field(0.95, gt=0, lt=1)
    seed: int = 42


class ReportingParams(_Strict):
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
    """

    reference_loss: str = "dice_ce"
    postprocessing: str = "none"
    pairing: Literal["volume", "fold_volume"] = "volume"
    run_ids: tuple[str, ...] = ()
    predictions_root: str
    bootstrap: ReportBootstrapParams = ReportBootstrapParams()
