"""What every parameter group shares: strict models (a typo is an error) and bootstrap settings."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class StrictParams(BaseModel):
    """Unknown keys are refused (``training.max_epoch`` is a typo, not a new setting)."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class BootstrapParams(StrictParams):
    """Confidence intervals (``scipy.stats.bootstrap``)."""

    method: Literal["BCa", "percentile", "basic"] = "BCa"
    n_resamples: int = Field(10_000, ge=100)
    confidence_level: float = Field(0.95, gt=0, lt=1)
    seed: int = 42
