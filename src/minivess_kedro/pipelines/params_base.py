"""What every parameter group shares: strict models (a typo is an error) and bootstrap settings."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from minivess_kedro.metrics.bootstrap import BOOTSTRAP_METHODS, DEFAULT_BOOTSTRAP


class StrictParams(BaseModel):
    """Unknown keys are refused (``training.max_epoch`` is a typo, not a new setting)."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class BootstrapParams(StrictParams):
    """Confidence intervals (``scipy.stats.bootstrap``); the defaults are the metrics package's
    (:data:`~minivess_kedro.metrics.bootstrap.DEFAULT_BOOTSTRAP`), and a study takes at least 100
    resamples."""

    method: Literal[BOOTSTRAP_METHODS] = DEFAULT_BOOTSTRAP.method  # Literal[("a", "b")] is Literal["a", "b"]
    n_resamples: int = Field(DEFAULT_BOOTSTRAP.n_resamples, ge=100)
    confidence_level: float = Field(DEFAULT_BOOTSTRAP.confidence_level, gt=0, lt=1)
    seed: int = DEFAULT_BOOTSTRAP.seed
