"""Typed ``splitting`` parameters."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from minivess_kedro.pipelines.params_base import StrictParams


class SplittingParams(StrictParams):
    """``splitting:`` in ``parameters_splitting.yml``.

    Attributes:
        protocol: ``nested`` (default: k outer folds, every volume tested once by a model that
            never saw it, early stopping on an inner validation subset), ``holdout`` (a fixed test
            set of ``test_size`` volumes, then k folds) or ``previous`` (the previous study's folds
            without a test set; its reported numbers are selection-biased).
        num_folds: cross-validation folds (outer folds for ``nested``).
        seed: shuffle seed (42 reproduces the previous study's ``3fold_seed42.json``).
        test_size: ``holdout`` only: held-out test volumes, a count or a fraction below 1;
            ignored by ``nested`` and ``previous``.
        val_size: ``nested`` only: each fold's inner validation subset, a count or a fraction
            below 1 of the volumes outside the fold's test set.
        split_file: a user's split file (nnU-Net shape) used instead of generating one.
    """

    protocol: Literal["nested", "holdout", "previous"] = "nested"
    num_folds: int = Field(3, ge=2)
    seed: int = 42
    test_size: int | float = Field(0, ge=0)
    val_size: int | float = Field(0.2, gt=0)
    split_file: str | None = None

    @model_validator(mode="after")
    def _holdout_needs_a_test_set(self) -> SplittingParams:
        if self.protocol == "holdout" and self.test_size == 0:
            raise ValueError(
                "splitting.test_size is 0 but splitting.protocol is 'holdout': give the number of held-out "
                "test volumes, or use protocol 'nested' (every volume tested once) or 'previous'"
            )
        return self
