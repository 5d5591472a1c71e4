"""One tidy table of every per-volume value the report uses, NaN distances already replaced.

Every table, test and figure of the report reads this table, so that all of them see the same
numbers: a NaN distance (exactly one empty mask) is the volume's diagonal everywhere, as in
:func:`minivess_kedro.metrics.summarize_metrics`.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from minivess_kedro.metrics import worst_case_values
from minivess_kedro.metrics.tolerance import nsd_scoring
from minivess_kedro.reporting.records import RunRecord, with_postprocessing

#: Columns of a values table.
VALUE_COLUMNS: tuple[str, ...] = (
    "loss",
    "kind",
    "run_id",
    "fold_idx",
    "seed",
    "id",
    "postprocessing",
    "metric",
    "value",
    "nan_replaced",
)


def _melt(table: pd.DataFrame, metrics: Sequence[str], where: str, **constants: object) -> list[pd.DataFrame]:
    """One block per (post-processing, metric) of ``table``, values worst-case replaced."""
    blocks = []
    for postprocessing, group in table.groupby("postprocessing", sort=True):
        for metric in metrics:
            try:
                values, _ = worst_case_values(group, metric)
            except ValueError as err:
                raise ValueError(f"{where}: {err}") from err
            nan = pd.to_numeric(group[metric]).isna().to_numpy()
            block = pd.DataFrame(
                {"id": group["id"].astype(str).to_numpy(), "value": values, "nan_replaced": nan}
            ).assign(postprocessing=str(postprocessing), metric=metric, **constants)
            blocks.append(block)
    return blocks


def run_values(runs: Sequence[RunRecord], split: str, metrics: Sequence[str]) -> pd.DataFrame:
    """Values of every run on ``split``, every post-processing and metric.

    Args:
        runs: validated runs (see :func:`~minivess_kedro.reporting.records.validate_runs`).
        split: ``test`` or ``val``.
        metrics: metric columns.

    Returns:
        A table with :data:`VALUE_COLUMNS`, ``kind`` = ``loss``.

    Raises:
        ValueError: naming the run, if a non-distance metric is NaN or a NaN distance has no
            diagonal to replace it.
    """
    blocks: list[pd.DataFrame] = []
    for run in runs:
        table = with_postprocessing(run.volume_metrics)
        table = table[table["split"] == split]
        blocks += _melt(
            table,
            metrics,
            run.label,
            loss=run.loss,
            kind="loss",
            run_id=run.run_id,
            fold_idx=int(run.fold_idx),
            seed=int(run.seed),
        )
    values = pd.concat(blocks, ignore_index=True)
    values["fold_idx"] = values["fold_idx"].astype("Int64")
    values["seed"] = values["seed"].astype("Int64")
    return values[list(VALUE_COLUMNS)]


def _baseline_rows(table: pd.DataFrame, split: str, ids: Sequence[str]) -> pd.DataFrame:
    """Rows of the reported volumes, one per method x id (the report's split preferred)."""
    table = table[table["id"].astype(str).isin(set(ids))]
    if "split" in table.columns:
        # Baselines have no checkpoint to select: any row of a reported volume is fair, but a row
        # labelled with the report's split wins over another label of the same volume.
        table = table.assign(_other=table["split"] != split).sort_values("_other", kind="stable")
        table = table.drop_duplicates(["method", "id"]).drop(columns="_other")
    repeated = table[table.duplicated(["method", "id"])][["method", "id"]].drop_duplicates()
    if len(repeated):
        raise ValueError(f"baselines repeat method x id rows: {repeated.to_dict('records')}.")
    return table


def incomparable_baselines(baselines: pd.DataFrame | None, nsd_tau: str | None, protocol: str) -> str | None:
    """Why the baselines cannot stand beside the runs' numbers, or ``None`` when they can.

    The baselines table is cached per dataset and rewritten by whichever evaluation ran last: after
    a change of the splits or of ``evaluation.nsd_tau`` it can describe another protocol (a Frangi
    threshold fitted on the volumes it scores) or another tolerance than the runs.

    Args:
        baselines: the per-volume baselines table; its optional ``nsd_tau`` (with
            ``nsd_tau_rule``) and ``protocol`` columns are compared.
        nsd_tau: how the runs scored NSD (:func:`~minivess_kedro.metrics.tolerance.nsd_scoring`: the
            fixed tolerance, or ``auto`` at each volume's own; ``None``: not recorded, not compared).
        protocol: the runs' protocol.

    Returns:
        A note naming each difference and the command that rescores the baselines.
    """
    if baselines is None or len(baselines) == 0:
        return None
    problems = []
    scoring = nsd_scoring(baselines)
    if nsd_tau is not None and scoring is not None and scoring != nsd_tau:
        problems.append(f"scored with NSD tolerance {scoring} where the runs used {nsd_tau}")
    if "protocol" in baselines.columns:
        found = sorted(set(baselines["protocol"].dropna().astype(str)))
        if found != [protocol]:
            problems.append(f"fitted and scored under protocol {', '.join(found)} where the runs ran {protocol}")
    if not problems:
        return None
    return (
        "The classical baselines were " + " and ".join(problems) + ": left out. Rescore them under the runs' "
        "splits and settings: `kedro run --env <env> --nodes evaluate_baselines`."
    )


def baseline_values(
    baselines: pd.DataFrame | None, split: str, metrics: Sequence[str], postprocessing: str, ids: Sequence[str]
) -> tuple[pd.DataFrame, str | None]:
    """Values of the classical baselines (``method`` column) on the reported volumes.

    Args:
        baselines: per-volume table with ``method``, ``id``, the metrics and ``diagonal``;
            optional ``split`` (a row labelled ``split`` is preferred when a volume has several)
            and ``postprocessing`` (rows of ``postprocessing`` are used) columns; or ``None``.
        split: the report's split.
        metrics: metric columns.
        postprocessing: the report's post-processing.
        ids: the volumes the losses are reported on; baseline rows of other volumes are left out.

    Returns:
        ``(values, note)``: a table with :data:`VALUE_COLUMNS` (``loss`` = the method,
        ``kind`` = ``baseline``, no run, fold or seed), and a note when the baselines are absent or do
        not cover every reported volume (``None`` otherwise).

    Raises:
        ValueError: if the table lacks ``method``, ``id`` or a metric, or repeats a method x id.
    """
    empty = pd.DataFrame(columns=list(VALUE_COLUMNS))
    if baselines is None or len(baselines) == 0:
        return empty, "No classical baseline was given."
    missing = [c for c in ("method", "id", *metrics) if c not in baselines.columns]
    if missing:
        raise ValueError(f"baselines lacks columns {missing}; it has {list(baselines.columns)}.")
    table = baselines
    if "postprocessing" in table.columns:
        table = table[table["postprocessing"] == postprocessing]
    table = _baseline_rows(table, split, ids)
    if len(table) == 0:
        return empty, f"The baselines were scored on none of the {len(set(ids))} reported volumes: left out."
    table = with_postprocessing(table.drop(columns=["postprocessing"], errors="ignore"))
    blocks: list[pd.DataFrame] = []
    for method, group in table.groupby("method", sort=True):
        blocks += _melt(group, metrics, f"baseline {method!r}", loss=str(method), kind="baseline", run_id="")
    values = pd.concat(blocks, ignore_index=True).assign(fold_idx=pd.NA, seed=pd.NA, postprocessing=postprocessing)
    values["fold_idx"] = values["fold_idx"].astype("Int64")
    values["seed"] = values["seed"].astype("Int64")
    covered = table.groupby("method")["id"].nunique()
    note = None
    if (covered < len(set(ids))).any():
        note = f"The baselines cover only some of the {len(set(ids))} reported volumes: {covered.to_dict()}."
    return values[list(VALUE_COLUMNS)], note


def volume_means(values: pd.DataFrame) -> pd.DataFrame:
    """Each volume's value averaged over the folds and seeds that scored it, per loss and metric.

    Returns:
        Columns ``loss``, ``kind``, ``metric``, ``id``, ``value``, ``n_folds`` (values averaged:
        (fold, seed) runs that scored the volume) and ``nan_replaced`` (some run's value was a
        replaced NaN distance).
    """
    grouped = values.groupby(["loss", "kind", "metric", "id"], sort=False)
    return grouped.agg(
        value=("value", "mean"), n_folds=("value", "count"), nan_replaced=("nan_replaced", "any")
    ).reset_index()


def fold_means(values: pd.DataFrame) -> pd.DataFrame:
    """Per loss x fold x metric mean over volumes and seeds (``loss``, ``fold_idx``, ``metric``, ``value``)."""
    return values.groupby(["loss", "fold_idx", "metric"], sort=False)["value"].mean().reset_index()
