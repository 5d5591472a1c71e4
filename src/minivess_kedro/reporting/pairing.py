"""Pairs of values of two runs on the same volumes, as the metrics package's paired tests take them.

A loss's fold-k run is paired with the other side's fold-k run on each volume both scored: under
the held-out protocol every fold is scored on the same test volumes, so each volume gives one
pair per common fold. ``volume`` pairing then averages a volume's pairs over those folds (one
pair per volume: the volume is the unit that was sampled); ``fold_volume`` pooling keeps every
(fold, volume) pair as its own observation.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from minivess_kedro.reporting.settings import Pairing


@dataclass(frozen=True)
class PairedTables:
    """Two aligned per-unit tables (``id`` and the metric) and how many pairs they hold.

    Attributes:
        a: values of side A, one row per unit (volume, or ``fold:volume``).
        b: values of side B on the same units.
        n_pairs: common (fold, volume) pairs.
        n_volumes: common volumes.
        n_folds: common folds.
    """

    a: pd.DataFrame
    b: pd.DataFrame
    n_pairs: int
    n_volumes: int
    n_folds: int


def pair_values(a: pd.DataFrame, b: pd.DataFrame, metric: str, pairing: Pairing) -> PairedTables:
    """Pair two sides' values of one metric on their common (fold, volume) pairs.

    Args:
        a: values rows (``fold_idx``, ``id``, ``value``) of side A for ``metric``.
        b: the same for side B.
        metric: the metric, used as the value column's name of the returned tables.
        pairing: ``volume`` (average each volume's pairs over its common folds) or
            ``fold_volume`` (one unit per (fold, volume) pair).

    Returns:
        The aligned tables, empty when nothing is common.
    """
    keys = ["fold_idx", "id"]
    merged = a[[*keys, "value"]].merge(b[[*keys, "value"]], on=keys, suffixes=("_a", "_b"), validate="one_to_one")
    if pairing == "volume":
        units = merged.groupby("id", sort=True)[["value_a", "value_b"]].mean().reset_index()
    else:
        units = merged.assign(id=merged["fold_idx"].astype(str) + ":" + merged["id"]).sort_values("id")
    return PairedTables(
        a=pd.DataFrame({"id": units["id"].to_numpy(), metric: units["value_a"].to_numpy(dtype=float)}),
        b=pd.DataFrame({"id": units["id"].to_numpy(), metric: units["value_b"].to_numpy(dtype=float)}),
        n_pairs=len(merged),
        n_volumes=int(merged["id"].nunique()),
        n_folds=int(merged["fold_idx"].nunique()),
    )
