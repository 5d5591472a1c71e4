"""Pairs of values of two runs on the same volumes, as the metrics package's paired tests take them.

A loss's (fold k, seed s) run is paired with the other side's (fold k, seed s) run on each volume
both scored: only the loss differs within a pair. ``volume`` pairing averages a volume's pairs over
the common (fold, seed) pairs (one unit per volume: the volume is the unit that was sampled; under
the nested protocol a volume is tested by one fold, so this averages its seeds); ``fold_volume``
keeps one unit per (fold, volume), averaged over its seeds.

The seeds also give the seed-to-seed spread of the difference: each common seed's mean paired
difference over the units every common seed scored, and their standard deviation.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from minivess_kedro.reporting.report_settings import Pairing

#: A pair's key: (fold, seed, volume id).
PairKey = tuple[int, int, str]


@dataclass(frozen=True)
class PairedTables:
    """Two aligned per-unit tables (``id`` and the metric) and how many pairs they hold.

    Attributes:
        a: values of side A, one row per unit (volume, or ``fold:volume``).
        b: values of side B on the same units.
        n_pairs: common (fold, seed, volume) pairs.
        n_volumes: common volumes.
        n_folds: common folds.
        n_seeds: common seeds.
        seed_means: per common seed (in order), the mean paired difference A - B over the units
            that every common seed scored.
    """

    a: pd.DataFrame
    b: pd.DataFrame
    n_pairs: int
    n_volumes: int
    n_folds: int
    n_seeds: int = 1
    seed_means: tuple[float, ...] = field(default_factory=tuple)

    @property
    def seed_spread(self) -> float:
        """Standard deviation (ddof 1) of :attr:`seed_means`; NaN with fewer than two seeds."""
        if len(self.seed_means) < 2:
            return math.nan
        return float(np.std(self.seed_means, ddof=1))


def _keyed(values: pd.DataFrame) -> dict[PairKey, float]:
    """``{(fold, seed, id): value}`` of values rows (seed 0 when the rows carry none)."""
    seeds: Iterable = values["seed"] if "seed" in values.columns else [0] * len(values)
    keys = zip(values["fold_idx"], seeds, values["id"], strict=True)
    return {(int(f), int(s), str(v)): float(x) for (f, s, v), x in zip(keys, values["value"], strict=True)}


def _seed_means(pairs: list[tuple[PairKey, float, float]], unit_of: dict[PairKey, str]) -> tuple[float, ...]:
    """Each common seed's mean difference over the units scored under every common seed."""
    by_seed: dict[int, dict[str, list[float]]] = {}
    for key, value_a, value_b in pairs:
        by_seed.setdefault(key[1], {}).setdefault(unit_of[key], []).append(value_a - value_b)
    shared = set.intersection(*(set(units) for units in by_seed.values())) if by_seed else set()
    if not shared:
        return ()
    return tuple(float(np.mean([np.mean(by_seed[seed][unit]) for unit in sorted(shared)])) for seed in sorted(by_seed))


def pair_values(a: pd.DataFrame, b: pd.DataFrame, metric: str, pairing: Pairing) -> PairedTables:
    """Pair two sides' values of one metric on their common (fold, seed, volume) pairs.

    Args:
        a: values rows (``fold_idx``, ``seed``, ``id``, ``value``) of side A for ``metric``, at
            most one row per (fold, seed, volume); without a ``seed`` column every row is seed 0.
        b: the same for side B.
        metric: the metric, used as the value column's name of the returned tables.
        pairing: ``volume`` (average each volume's pairs over its common (fold, seed) pairs) or
            ``fold_volume`` (one unit per (fold, volume), averaged over its common seeds).

    Returns:
        The aligned tables, units sorted, empty when nothing is common.
    """
    # Plain dicts: these tables are small and pandas merges cost milliseconds each.
    side_b = _keyed(b)
    pairs = sorted((key, value, side_b[key]) for key, value in _keyed(a).items() if key in side_b)
    unit_of = {key: key[2] if pairing == "volume" else f"{key[0]}:{key[2]}" for key, _, _ in pairs}
    units: dict[str, list[tuple[float, float]]] = {}
    for key, value_a, value_b in pairs:
        units.setdefault(unit_of[key], []).append((value_a, value_b))
    names = sorted(units)
    means = np.array([np.mean(units[u], axis=0) for u in names]).reshape(-1, 2)
    return PairedTables(
        a=pd.DataFrame({"id": names, metric: means[:, 0]}),
        b=pd.DataFrame({"id": names, metric: means[:, 1]}),
        n_pairs=len(pairs),
        n_volumes=len({key[2] for key, _, _ in pairs}),
        n_folds=len({key[0] for key, _, _ in pairs}),
        n_seeds=len({key[1] for key, _, _ in pairs}),
        seed_means=_seed_means(pairs, unit_of),
    )
