"""Pairs of values of two runs on the same volumes, laid out as the run-aware test takes them.

A loss's (fold k, seed s) run is paired with the other side's (fold k, seed s) run on each volume
both scored: only the loss differs within a pair. The pairs are grouped into blocks of runs that
scored the same volumes (a fold under the nested protocol, where each fold tests its own volumes;
every run under holdout, where all folds test the same volumes), one ``(volumes, runs)`` table of
differences per block: the layout of :func:`~minivess_kedro.reporting.clustered.clustered_difference`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

#: A pair's key: (fold, seed, volume id).
PairKey = tuple[int, int, str]
#: A run's key: (fold, seed).
RunKey = tuple[int, int]


@dataclass(frozen=True)
class PairedBlocks:
    """Paired values of two sides, one ``(volumes, runs)`` table per block of runs.

    Attributes:
        a: per block, side A's values, shape ``(n_volumes_b, n_runs_b)``.
        b: per block, side B's values on the same cells.
        n_pairs: common (fold, seed, volume) pairs used.
        n_dropped: common pairs left out because not every run of their block scored the volume.
        n_folds: common folds.
        n_seeds: common seeds.
    """

    a: tuple[np.ndarray, ...]
    b: tuple[np.ndarray, ...]
    n_pairs: int
    n_dropped: int
    n_folds: int
    n_seeds: int

    @property
    def differences(self) -> tuple[np.ndarray, ...]:
        """A - B per block."""
        return tuple(x - y for x, y in zip(self.a, self.b, strict=True))

    @property
    def n_volumes(self) -> int:
        """Volumes in the blocks."""
        return int(sum(block.shape[0] for block in self.a))

    def mean(self, side: str) -> float:
        """Mean over volumes of each volume's run-averaged value of side ``a`` or ``b`` (the
        weighting of the test's estimate); NaN when empty."""
        blocks = self.a if side == "a" else self.b
        total = self.n_volumes
        return float(sum(block.mean(axis=1).sum() for block in blocks) / total) if total else float("nan")


def _keyed(values: pd.DataFrame) -> dict[PairKey, float]:
    """``{(fold, seed, id): value}`` of values rows (seed 0 when the rows carry none)."""
    seeds: Iterable = values["seed"] if "seed" in values.columns else [0] * len(values)
    keys = zip(values["fold_idx"], seeds, values["id"], strict=True)
    return {(int(f), int(s), str(v)): float(x) for (f, s, v), x in zip(keys, values["value"], strict=True)}


def _blocks(volumes_of: dict[RunKey, set[str]]) -> list[list[RunKey]]:
    """Runs grouped so that runs sharing any volume are in one group (connected components)."""
    groups: list[tuple[list[RunKey], set[str]]] = []
    for run in sorted(volumes_of):
        volumes = volumes_of[run]
        joined = [g for g in groups if g[1] & volumes]
        merged = ([run], set(volumes))
        for group in joined:
            merged[0].extend(group[0])
            merged[1].update(group[1])
            groups.remove(group)
        groups.append(merged)
    return sorted(sorted(runs) for runs, _ in groups)


def pair_values(a: pd.DataFrame, b: pd.DataFrame) -> PairedBlocks:
    """Pair two sides' values of one metric on their common (fold, seed, volume) cells.

    Args:
        a: values rows (``fold_idx``, ``seed``, ``id``, ``value``) of side A, at most one row
            per (fold, seed, volume); without a ``seed`` column every row is seed 0.
        b: the same for side B.

    Returns:
        The blocks, runs and volumes sorted; a block keeps the volumes every one of its runs
        scored (the others are counted in ``n_dropped``); empty when nothing is common.
    """
    # Plain dicts: these tables are small and pandas merges cost milliseconds each.
    side_a, side_b = _keyed(a), _keyed(b)
    common = [key for key in side_a if key in side_b]
    volumes_of: dict[RunKey, set[str]] = {}
    for fold, seed, volume in common:
        volumes_of.setdefault((fold, seed), set()).add(volume)
    blocks_a, blocks_b, used = [], [], 0
    for runs in _blocks(volumes_of):
        shared = sorted(set.intersection(*(volumes_of[run] for run in runs)))
        if not shared:
            continue
        blocks_a.append(np.array([[side_a[(*run, v)] for run in runs] for v in shared]))
        blocks_b.append(np.array([[side_b[(*run, v)] for run in runs] for v in shared]))
        used += len(shared) * len(runs)
    return PairedBlocks(
        a=tuple(blocks_a),
        b=tuple(blocks_b),
        n_pairs=used,
        n_dropped=len(common) - used,
        n_folds=len({key[0] for key in common}),
        n_seeds=len({key[1] for key in common}),
    )
