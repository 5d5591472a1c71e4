"""Typed ``splitting`` parameters."""

from __future__ import annotations

from pydantic import Field

from minivess_kedro.pipelines.params_base import StrictParams


class SplittingParams(StrictParams):
    """``splitting:`` in ``parameters_splitting.yml``.

    Attributes:
        num_folds: cross-validation folds.
        seed: shuffle seed (42 reproduces the previous study's ``3fold_seed42.json``).
        test_size: held-out test volumes, a count or a fraction below 1; 0 reproduces the
            previous protocol, whose reported numbers are then selection-biased.
        split_file: a user's split file (nnU-Net shape) used instead of generating one.
    """

    num_folds: int = Field(3, ge=2)
    seed: int = 42
    test_size: int | float = Field(0, ge=0)
    split_file: str | None = None
