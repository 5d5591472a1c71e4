"""Per-volume table and per-run summary with bootstrap confidence intervals.

Nothing is silently dropped from a mean: a NaN distance (exactly one empty mask) is replaced by
the volume's diagonal, the worst possible distance, and the summary says how many were
replaced. A NaN in any other metric is an error.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from minivess_kedro.metrics._validation import DistanceUnits
from minivess_kedro.metrics.bootstrap import (
    DEFAULT_BOOTSTRAP,
    bootstrap_mean_ci,
    check_bootstrap_args,
)
from minivess_kedro.metrics.evaluate import DISTANCE_KEYS, METRIC_KEYS, evaluate_pair

#: Columns placed first in a per-volume table.
LEADING_COLUMNS: tuple[str, ...] = ("id", "split", *METRIC_KEYS)


def build_volume_table(records: Iterable[Mapping[str, Any]]) -> pd.DataFrame:
    """One row per volume from ``{"id": ..., "split": ..., **evaluate_pair(...)}`` records.

    Args:
        records: one mapping per volume with at least ``id``, the keys of ``METRIC_KEYS`` and
            ``diagonal``; ``split`` is optional (filled with ``""``); other keys become extra
            columns (border counts, Betti numbers, timing ...).

    Returns:
        DataFrame with ``id``, ``split`` and the metrics first, in input order.

    Raises:
        ValueError: if there are no records, a record lacks a required key or ids repeat.
    """
    rows = [dict(r) for r in records]
    if not rows:
        raise ValueError("records is empty: there is no volume to tabulate.")
    required = ("id", *METRIC_KEYS, "diagonal")
    for i, row in enumerate(rows):
        missing = [k for k in required if k not in row]
        if missing:
            raise ValueError(f"record {i} (id={row.get('id')!r}) lacks keys {missing}.")
        row.setdefault("split", "")
    table = pd.DataFrame(rows)
    duplicated = table["id"][table["id"].duplicated()].tolist()
    if duplicated:
        raise ValueError(f"volume ids must be unique, repeated: {sorted(set(duplicated))}.")
    rest = [c for c in table.columns if c not in LEADING_COLUMNS]
    return table[[*LEADING_COLUMNS, *rest]]


@dataclass(frozen=True)
class VolumePair:
    """One volume to evaluate.

    Attributes:
        id: volume id (``mv01`` ...).
        pred: binary prediction of shape ``(H, W, D)``.
        ref: binary reference of shape ``(H, W, D)``.
        spacing: header spacing of the volume.
        split: ``"val"``, ``"test"`` ... (free text).
    """

    id: str
    pred: np.ndarray
    ref: np.ndarray
    spacing: tuple[float, float, float]
    split: str = ""


def _volume_tolerance(nsd_tau: float | Mapping[str, float], volume_id: str) -> float:
    """The NSD tolerance of one volume: the common one, or its own from the mapping."""
    if not isinstance(nsd_tau, Mapping):
        return nsd_tau
    if volume_id not in nsd_tau:
        raise ValueError(f"no NSD tolerance was given for it (tolerances given for {len(nsd_tau)} other volumes)")
    return nsd_tau[volume_id]


def evaluate_volumes(
    pairs: Iterable[VolumePair],
    nsd_tau: float | Mapping[str, float] = 1.0,
    distance_units: DistanceUnits = "physical",
    progress: bool | None = None,
    known: Callable[[VolumePair], dict[str, Any] | None] | None = None,
) -> pd.DataFrame:
    """:func:`evaluate_pair` on every volume, as a per-volume table.

    Args:
        pairs: the volumes (a generator keeps only one volume in memory at a time).
        nsd_tau: NSD tolerance, in the units of ``distance_units``: one for every volume, or
            each volume's own by id (``evaluation.nsd_tau: auto``); the table's ``nsd_tau``
            column holds the one each row was scored at.
        distance_units: ``"physical"`` or ``"voxel"``.
        progress: show a progress bar; ``None`` shows it only on a terminal.
        known: ``known(pair)`` is :func:`evaluate_pair`'s result for this pair with these settings
            if it was already computed (e.g. beside the prediction), else ``None``.

    Returns:
        The table of :func:`build_volume_table`.
    """
    show = sys.stderr.isatty() if progress is None else progress
    records = []
    for pair in tqdm(pairs, desc="metrics", unit="volume", disable=not show):
        try:
            tau = _volume_tolerance(nsd_tau, pair.id)
            result = known(pair) if known is not None else None
            if result is None:
                result = evaluate_pair(pair.pred, pair.ref, pair.spacing, tau, distance_units)
        except ValueError as err:
            raise ValueError(f"volume {pair.id!r}: {err}") from err
        records.append({"id": pair.id, "split": pair.split, **result})
    return build_volume_table(records)


def worst_case_values(table: pd.DataFrame, metric: str) -> tuple[np.ndarray, int]:
    """Values of ``metric`` with NaN distances replaced by the volume diagonal.

    Args:
        table: per-volume table (needs a ``diagonal`` column when a distance is NaN).
        metric: column name.

    Returns:
        ``(values, n_replaced)``, values of shape ``(N,)``.

    Raises:
        ValueError: if the column is missing, a non-distance metric holds NaN, or a NaN
            distance cannot be replaced because ``diagonal`` is missing or NaN.
    """
    if metric not in table.columns:
        raise ValueError(f"metric {metric!r} is not a column of the table: {list(table.columns)}.")
    values = pd.to_numeric(table[metric], errors="raise").to_numpy(dtype=np.float64, copy=True)
    nan = np.isnan(values)
    if not nan.any():
        return values, 0
    ids = table["id"][nan].tolist() if "id" in table.columns else np.flatnonzero(nan).tolist()
    if metric not in DISTANCE_KEYS:
        raise ValueError(f"metric {metric!r} is NaN for volumes {ids}; only distances may be NaN.")
    if "diagonal" not in table.columns:
        raise ValueError(f"{metric!r} is NaN for volumes {ids} and the table has no 'diagonal'.")
    diagonal = table["diagonal"].to_numpy(dtype=np.float64)
    if np.isnan(diagonal[nan]).any():
        raise ValueError(f"'diagonal' is NaN for volumes {ids}: cannot replace NaN {metric!r}.")
    values[nan] = diagonal[nan]
    return values, int(nan.sum())


def summarize_metrics(
    table: pd.DataFrame,
    metrics: Sequence[str] = METRIC_KEYS,
    *,
    method: str = DEFAULT_BOOTSTRAP.method,
    n_resamples: int = DEFAULT_BOOTSTRAP.n_resamples,
    confidence_level: float = DEFAULT_BOOTSTRAP.confidence_level,
    seed: int = DEFAULT_BOOTSTRAP.seed,
) -> pd.DataFrame:
    """Per-metric summary over volumes: mean, median, std and a bootstrap CI of the mean.

    Args:
        table: per-volume table (see :func:`build_volume_table`).
        metrics: metric columns to summarise.
        method: ``scipy.stats.bootstrap`` method, ``"BCa"`` or ``"percentile"`` (or
            ``"basic"``).
        n_resamples: bootstrap resamples (10,000 for the study, fewer in tests).
        confidence_level: e.g. 0.95.
        seed: resampling seed; the same inputs and seed give the same interval.

    Returns:
        DataFrame indexed by metric with columns ``n``, ``mean``, ``median``, ``std``
        (sample, ddof=1), ``ci_low``, ``ci_high``, ``n_nan_replaced``, ``ci_method``,
        ``n_resamples``, ``confidence_level``.

    Raises:
        ValueError: on an empty table, bad bootstrap settings, or NaN that cannot be replaced.
    """
    method = check_bootstrap_args(method, n_resamples, confidence_level)
    if len(table) == 0:
        raise ValueError("table is empty: there is nothing to summarise.")
    rows = []
    for metric in metrics:
        values, n_replaced = worst_case_values(table, metric)
        low, high = bootstrap_mean_ci(
            values,
            method=method,
            n_resamples=n_resamples,
            confidence_level=confidence_level,
            seed=seed,
        )
        rows.append(
            {
                "metric": metric,
                "n": values.size,
                "mean": float(np.mean(values)),
                "median": float(np.median(values)),
                "std": float(np.std(values, ddof=1)) if values.size > 1 else float("nan"),
                "ci_low": low,
                "ci_high": high,
                "n_nan_replaced": n_replaced,
                "ci_method": method,
                "n_resamples": n_resamples,
                "confidence_level": confidence_level,
            }
        )
    return pd.DataFrame(rows).set_index("metric")
