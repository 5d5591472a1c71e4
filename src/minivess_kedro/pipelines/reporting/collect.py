"""Node that gathers the study's runs from MLflow into files (so the report can be rebuilt
offline and per node)."""

from __future__ import annotations

import io
import logging

import mlflow
import pandas as pd
from mlflow import MlflowClient

from minivess_kedro.pipelines.reporting.params import ReportingParams

logger = logging.getLogger(__name__)


def _csv(client: MlflowClient, run_id: str, path: str) -> pd.DataFrame:
    text = mlflow.artifacts.load_text(f"runs:/{run_id}/{path}")
    return pd.read_csv(io.StringIO(text)) if text.strip() else pd.DataFrame()


def _candidate_runs(client: MlflowClient, params: ReportingParams) -> list:
    if params.run_ids:
        return [client.get_run(run_id) for run_id in params.run_ids]
    experiment_id = mlflow.active_run().info.experiment_id if mlflow.active_run() else None
    if experiment_id is None:
        raise RuntimeError(
            "no active MLflow run: the reporting pipeline needs kedro-mlflow's run (or reporting.run_ids)"
        )
    finished = client.search_runs(
        [experiment_id], filter_string="tags.evaluated = 'true' and attributes.status = 'FINISHED'"
    )
    active = client.get_run(mlflow.active_run().info.run_id)
    # `kedro run` of the whole study: this very run trained and evaluated a model too.
    return finished + ([active] if active.data.tags.get("evaluated") == "true" else [])


def collect_study_runs(reporting: dict) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The latest finished, evaluated run of each loss and fold, with their tables.

    Returns:
        ``(runs, volume_metrics, histories)``: one row per run (id, loss, fold, start time,
        tags, params as JSON); the per-volume metrics and the epoch histories with a ``run_id``
        column.

    Raises:
        ValueError: no evaluated run in the experiment (run training and evaluation first).
    """
    params = ReportingParams.model_validate(reporting)
    client = MlflowClient()
    candidates = sorted(_candidate_runs(client, params), key=lambda run: run.info.start_time)
    latest = {}
    for run in candidates:  # later runs of a cell replace earlier ones (reruns, re-evaluations)
        tags = run.data.tags
        if "loss" in tags and "fold_idx" in tags:
            latest[(tags["loss"], int(tags["fold_idx"]))] = run
    if not latest:
        raise ValueError(
            "no finished, evaluated run to report on: run `kedro run --params loss=...,fold_idx=...` "
            "(training and evaluation) first, or list run ids in reporting.run_ids"
        )
    rows, tables, histories = [], [], []
    for (loss, fold_idx), run in sorted(latest.items()):
        run_id = run.info.run_id
        rows.append(
            {
                "run_id": run_id,
                "loss": loss,
                "fold_idx": fold_idx,
                "start_time": run.info.start_time,
                "tags": pd.Series(run.data.tags).to_json(),
                "params": pd.Series(run.data.params).to_json(),
            }
        )
        tables.append(_csv(client, run_id, "evaluation/volume_metrics.csv").assign(run_id=run_id))
        histories.append(_csv(client, run_id, "training_history.csv").assign(run_id=run_id))
    logger.info("Reporting on %d runs: %s", len(rows), ", ".join(f"{r['loss']}-fold{r['fold_idx']}" for r in rows))
    return pd.DataFrame(rows), pd.concat(tables, ignore_index=True), pd.concat(histories, ignore_index=True)
