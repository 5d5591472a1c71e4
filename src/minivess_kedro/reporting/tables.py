"""Per-fold and per-loss result tables (long format: one row per loss x metric).

Under the ``holdout`` (and ``previous``) protocol the loss table's point estimate is the mean over
folds of each fold's mean over volumes (and seeds); its confidence interval is a bootstrap over
volumes of each volume's value averaged over folds and seeds. Every holdout fold scores the same
test volumes, so both have the same centre and the interval reflects how much the number would
move with other test volumes (not with other training folds: ``fold_std`` shows that spread).

Under the ``nested`` protocol each fold tests different volumes, each volume exactly once: the
point estimate is the mean over volumes of each volume's value (averaged over its seeds), and the
interval the bootstrap over those values; ``fold_std`` is still the spread of the fold means.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from minivess_kedro.metrics import bootstrap_mean_ci, summarize_metrics
from minivess_kedro.reporting.records import RunRecord, with_postprocessing
from minivess_kedro.reporting.report_settings import ReportSettings
from minivess_kedro.reporting.values import fold_means, volume_means

#: Columns of the loss and baseline tables.
LOSS_TABLE_COLUMNS: tuple[str, ...] = (
    "loss",
    "kind",
    "metric",
    "mean",
    "ci_low",
    "ci_high",
    "fold_std",
    "n_folds",
    "n_seeds",
    "n_volumes",
    "n_nan_replaced",
    "split",
    "postprocessing",
)


def fold_table(runs: Sequence[RunRecord], split: str, settings: ReportSettings) -> pd.DataFrame:
    """Per loss x fold x metric summary of each run (``summarize_metrics`` on its rows).

    Returns:
        Columns ``loss``, ``fold_idx``, ``seed``, ``run_id``, ``metric`` and the summary's ``n``,
        ``mean``, ``median``, ``std``, ``ci_low``, ``ci_high``, ``n_nan_replaced``; the reference
        loss first, then the others alphabetically, folds and seeds in order.
    """
    frames = []
    for run in runs:
        table = with_postprocessing(run.volume_metrics)
        table = table[(table["split"] == split) & (table["postprocessing"] == settings.postprocessing)]
        try:
            summary = summarize_metrics(table, settings.metrics, **settings.bootstrap_kwargs())
        except ValueError as err:
            raise ValueError(f"{run.label}: {err}") from err
        summary = summary[["n", "mean", "median", "std", "ci_low", "ci_high", "n_nan_replaced"]].reset_index()
        frames.append(summary.assign(loss=run.loss, fold_idx=int(run.fold_idx), seed=int(run.seed), run_id=run.run_id))
    table = pd.concat(frames, ignore_index=True)
    columns = ["loss", "fold_idx", "seed", "run_id", "metric", "n", "mean", "median", "std", "ci_low", "ci_high"]
    rank = {loss: i for i, loss in enumerate(loss_order(list(table["loss"]), settings.reference_loss))}
    table = table.assign(_rank=table["loss"].map(rank)).sort_values(["_rank", "fold_idx", "seed"], kind="stable")
    return table[[*columns, "n_nan_replaced"]].reset_index(drop=True)


def _row(values: pd.DataFrame, metric: str, settings: ReportSettings, nested: bool) -> dict:
    """Loss-table numbers of one loss (or baseline) and metric from its values rows."""
    per_volume = volume_means(values)["value"].to_numpy(dtype=np.float64)
    low, high = bootstrap_mean_ci(per_volume, **settings.bootstrap_kwargs())
    folds = values["fold_idx"].dropna()
    if len(folds):
        per_fold = fold_means(values)["value"].to_numpy(dtype=np.float64)
        n_folds, n_seeds = int(folds.nunique()), int(values["seed"].nunique())
        mean = float(per_volume.mean()) if nested else float(per_fold.mean())
        fold_std = float(per_fold.std(ddof=1)) if n_folds > 1 else float("nan")
    else:  # a baseline: computed once, not per fold or seed
        mean, n_folds, n_seeds, fold_std = float(per_volume.mean()), pd.NA, pd.NA, float("nan")
    return {
        "metric": metric,
        "mean": mean,
        "ci_low": low,
        "ci_high": high,
        "fold_std": fold_std,
        "n_folds": n_folds,
        "n_seeds": n_seeds,
        "n_volumes": int(values["id"].nunique()),
        "n_nan_replaced": int(values["nan_replaced"].sum()),
    }


def summary_table(
    values: pd.DataFrame, split: str, settings: ReportSettings, order: Sequence[str], nested: bool = False
) -> pd.DataFrame:
    """Loss (or baseline) x metric table from values rows of one post-processing.

    Args:
        values: values rows (see :mod:`~minivess_kedro.reporting.values`), one post-processing.
        split: recorded in the ``split`` column.
        settings: metrics, bootstrap settings and post-processing.
        order: the losses in row order.
        nested: the ``nested`` protocol (each volume tested by one fold): the mean is over
            volumes, not over fold means.

    Returns:
        A table with :data:`LOSS_TABLE_COLUMNS`.
    """
    rows = []
    for loss in order:
        of_loss = values[values["loss"] == loss]
        kind = str(of_loss["kind"].iloc[0])
        for metric in settings.metrics:
            of_metric = of_loss[of_loss["metric"] == metric]
            rows.append({"loss": loss, "kind": kind, **_row(of_metric, metric, settings, nested)})
    table = pd.DataFrame(rows, columns=[c for c in LOSS_TABLE_COLUMNS if c not in ("split", "postprocessing")])
    table["n_folds"] = table["n_folds"].astype("Int64")
    table["n_seeds"] = table["n_seeds"].astype("Int64")
    return table.assign(split=split, postprocessing=settings.postprocessing)[list(LOSS_TABLE_COLUMNS)]


def loss_order(losses: Sequence[str], reference: str) -> list[str]:
    """The reference loss first, then the others alphabetically."""
    unique = sorted(set(losses))
    return [reference, *[x for x in unique if x != reference]] if reference in unique else unique
