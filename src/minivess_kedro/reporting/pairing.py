"""Pairs of values of two runs on the same volumes, as the metrics package's paired tests take them.

A loss's fold-k run is paired with the other side's fold-k run on each volume both scored: under
the held-out protocol every fold is scored on the same test volumes, so each volume gives one
pair per common fold. ``volume`` pairing then averages a volume's pairs over those folds (one
pair per volume: the volume is the unit that was sampled); ``fold_volume`` pooling keeps every
(fold, volume) pair as its own observation.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
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
        a: values rows (``fold_idx``, ``id``, ``value``) of side A for ``metric``, at most one
            row per (fold, volume).
        b: the same for side B.
        metric: the metric, used as the value column's name of the returned tables.
        pairing: ``volume`` (average each volume's pairs over its common folds) or
            ``fold_volume`` (one unit per (fold, volume) pair).

    Returns:
        The aligned tables, units sorted, empty when nothing is common.
    """
    # Plain dicts: these tables are small and pandas merges cost milliseconds each.
    side_b = dict(zip(zip(b["fold_idx"], b["id"], strict=True), b["value"], strict=True))
    pairs = sorted(
        (key, float(value), float(side_b[key]))
        for key, value in zip(zip(a["fold_idx"], a["id"], strict=True), a["value"], strict=True)
        if key in side_b
    )
    units: dict[str, list[tuple[float, float]]] = {}
    for (fold, volume), value_a, value_b in pairs:
        unit = volume if pairing == "volume" else f"{fold}:{volume}"
        units.setdefault(unit, []).append((value_a, value_b))
    names = sorted(units)
    means = np.array([np.mean(units[u], axis=0) for u in names]).reshape(-1, 2)
    return PairedTables(
        a=pd.DataFrame({"id": names, metric: means[:, 0]}),
        b=pd.DataFrame({"id": names, metric: means[:, 1]}),
        n_pairs=len(pairs),
        n_volumes=len({volume for (_, volume), _, _ in pairs}),
        n_folds=len({fold for (fold, _), _, _ in pairs}),
    )
