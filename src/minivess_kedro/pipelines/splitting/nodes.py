"""Nodes of ``splitting``."""

from __future__ import annotations

import logging

import pandas as pd

from minivess_kedro.data.splits import load_split_file, make_splits, select_fold, split_protocol, validate_splits
from minivess_kedro.pipelines.splitting.params import SplittingParams

logger = logging.getLogger(__name__)


def create_splits(volume_manifest: pd.DataFrame, params: dict) -> dict:
    """The study's splits: the user's file (validated) or generated from the manifest's ids.

    A user's file without a ``"protocol"`` gets the one its shape says (:func:`split_protocol`).
    """
    params = SplittingParams.model_validate(params)
    ids = volume_manifest["volume_id"].tolist()
    if params.split_file:
        splits = load_split_file(params.split_file)
        validate_splits(splits, ids, source=params.split_file)
        splits.setdefault("protocol", split_protocol(splits))
    else:
        splits = make_splits(
            ids,
            num_folds=params.num_folds,
            seed=params.seed,
            test_size=params.test_size,
            protocol=params.protocol,
            val_size=params.val_size,
        )
        validate_splits(splits, ids)
    logger.info("Splits: %s", _describe(splits))
    if splits["protocol"] == "previous":
        logger.warning(
            "No held-out test set (splitting.protocol=previous): numbers reported on the validation "
            "folds are selection-biased, as in the previous study."
        )
    return splits


def _describe(splits: dict) -> str:
    """One line on how the splits test, e.g. ``nested: 3 outer folds, every volume tested once; ...``."""
    folds, protocol = splits["folds"], splits["protocol"]
    if protocol == "nested":
        val_size = splits.get("val_size")
        if val_size is None:  # a user's file
            inner = "as in the file"
        elif isinstance(val_size, float) and val_size < 1:
            inner = f"{val_size:.0%} of the rest"
        else:
            inner = f"{val_size} volumes of the rest"
        return f"nested: {len(folds)} outer folds, every volume tested once; inner validation {inner}"
    if protocol == "holdout":
        return f"holdout: {len(splits['test'])} fixed test volumes, {len(folds)} train/val folds on the rest"
    return f"previous: {len(folds)} train/val folds, no test set (checkpoints selected on the reported volumes)"


def split_for_fold(splits: dict, fold_idx: int) -> dict:
    """The train/val/test ids of the run's fold (``--params fold_idx=N``)."""
    fold = select_fold(splits, fold_idx)
    logger.info(
        "Fold %d (%s): %d train, %d val, %d test volumes",
        fold_idx,
        fold["protocol"],
        len(fold["train"]),
        len(fold["val"]),
        len(fold["test"]),
    )
    return fold
