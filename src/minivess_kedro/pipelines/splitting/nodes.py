"""Nodes of ``splitting``."""

from __future__ import annotations

import logging

import pandas as pd

from minivess_kedro.data.splits import load_split_file, make_splits, select_fold, validate_splits
from minivess_kedro.pipelines.splitting.params import SplittingParams

logger = logging.getLogger(__name__)


def create_splits(volume_manifest: pd.DataFrame, params: dict) -> dict:
    """The study's splits: the user's file (validated) or generated from the manifest's ids."""
    params = SplittingParams.model_validate(params)
    ids = volume_manifest["volume_id"].tolist()
    if params.split_file:
        splits = load_split_file(params.split_file)
        validate_splits(splits, ids, source=params.split_file)
    else:
        splits = make_splits(ids, num_folds=params.num_folds, seed=params.seed, test_size=params.test_size)
        validate_splits(splits, ids)
    if not splits.get("test"):
        logger.warning(
            "No held-out test set (splitting.test_size=0): numbers reported on the validation "
            "folds are selection-biased, as in the previous study."
        )
    return splits


def split_for_fold(splits: dict, fold_idx: int) -> dict:
    """The train/val/test ids of the run's fold (``--params fold_idx=N``)."""
    fold = select_fold(splits, fold_idx)
    logger.info(
        "Fold %d: %d train, %d val, %d test volumes",
        fold_idx,
        len(fold["train"]),
        len(fold["val"]),
        len(fold["test"]),
    )
    return fold
