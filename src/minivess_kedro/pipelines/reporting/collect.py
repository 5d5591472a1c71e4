"""Node that gathers the study's runs (read through the ``study_mlflow_runs`` dataset) into files,
so the report can be rebuilt offline and per node."""

from __future__ import annotations

import logging

import pandas as pd

from minivess_kedro.datasets.mlflow_study_runs_dataset import LoggedRun, StudyRuns
from minivess_kedro.framework.dotted_keys import dotted_keys
from minivess_kedro.pipelines.reporting.params import ReportingParams
from minivess_kedro.sweep.grid import Cell

logger = logging.getLogger(__name__)
_MODEL_KEYS = ("name", "version", "weights_sha256", "evaluated_weights_sha256")


def _table(study_runs: StudyRuns, run_id: str, name: str) -> pd.DataFrame:
    table = study_runs.artifact(run_id, name)
    return pd.DataFrame() if table is None else table


def _lineage_params(study_runs: StudyRuns, run_id: str) -> dict[str, str]:
    """The model's own record of how it was split and trained (``model_lineage.json`` of the run),
    as ``lineage.splitting.*`` / ``lineage.training.*`` params; empty for runs without it.

    A re-evaluation run's params describe the configuration of the day it ran; these describe the
    model, so the report compares these.
    """
    lineage = study_runs.artifact(run_id, "model_lineage")
    if lineage is None:
        return {}
    design = {key: lineage.get(key, {}) for key in ("splitting", "training")} | {"protocol": lineage.get("protocol")}
    return {f"lineage.{key}": str(value) for key, value in dotted_keys(design).items()}


def collect_study_runs(
    study_mlflow_runs: StudyRuns, reporting: dict, last_evaluated_run: dict, dataset_fingerprint: dict
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The latest finished, evaluated run of each loss, fold and seed, with their tables.

    ``last_evaluated_run`` (written by the evaluation) orders reporting after evaluation in a
    whole-study ``kedro run``, whose own run is then included although still running.

    Returns:
        ``(runs, volume_metrics, histories)``: one row per run (id, loss, fold, seed, start time,
        tags, params as JSON, the registered model name and version it evaluated, that
        version's ``weights_sha256`` tag and the digest of the weights the evaluation scored, empty
        when none); the per-volume metrics and the epoch histories with a ``run_id``
        column.

    Raises:
        ValueError: no evaluated run in the experiment (run training and evaluation first).
    """
    params = ReportingParams.model_validate(reporting)
    found = study_mlflow_runs.by_id(params.run_ids) if params.run_ids else study_mlflow_runs.evaluated()
    candidates: list[LoggedRun] = sorted(found, key=lambda run: run.start_time)
    latest = {}
    other_data = 0
    for run in candidates:  # later runs of a cell replace earlier ones (reruns, re-evaluations)
        tags = run.tags
        if tags.get("dataset_fingerprint") != dataset_fingerprint["fingerprint"]:
            other_data += 1  # another dataset (e.g. synthetic vs real) never enters this report
            continue
        if "loss" in tags and "fold_idx" in tags:  # runs from before seeds were a dimension are seed 0
            latest[(tags["loss"], int(tags["fold_idx"]), int(tags.get("seed", 0)))] = run
    if other_data:
        logger.warning("%d evaluated run(s) of another dataset left out of the report", other_data)
    if not latest:
        raise ValueError(
            "no finished, evaluated run to report on: run `kedro run --params loss=...,fold_idx=...` "
            "(training and evaluation) first, or list run ids in reporting.run_ids"
        )
    rows, tables, histories = [], [], []
    for (loss, fold_idx, seed), run in sorted(latest.items()):
        run_id = run.run_id
        model = study_mlflow_runs.evaluated_model(run_id) or dict.fromkeys(_MODEL_KEYS, "")
        rows.append(
            {
                "run_id": run_id,
                "loss": loss,
                "fold_idx": fold_idx,
                "seed": seed,
                "start_time": run.start_time,
                "tags": pd.Series(run.tags).to_json(),
                "params": pd.Series(run.params | _lineage_params(study_mlflow_runs, run_id)).to_json(),
                "model_name": model["name"],
                "model_version": model["version"],
                "model_weights_sha256": model["weights_sha256"],
                "evaluated_weights_sha256": model["evaluated_weights_sha256"],
            }
        )
        tables.append(_table(study_mlflow_runs, run_id, "volume_metrics").assign(run_id=run_id))
        histories.append(_table(study_mlflow_runs, run_id, "training_history").assign(run_id=run_id))
    names = ", ".join(Cell(r["loss"], r["fold_idx"], r["seed"]).name for r in rows)
    logger.info("Reporting on %d runs: %s", len(rows), names)
    return pd.DataFrame(rows), pd.concat(tables, ignore_index=True), pd.concat(histories, ignore_index=True)


def read_registry_aliases(
    study_mlflow_runs: StudyRuns, study_runs: pd.DataFrame
) -> dict[str, dict[str, dict[str, str]]]:
    """Where the aliases of the runs' registered models point before this report, as
    ``{model name: {alias: {"version", "dataset_fingerprint"}}}`` (saved, so the report node
    reruns alone on the same state)."""
    names = sorted({str(name) for name in study_runs.get("model_name", pd.Series(dtype=str)).dropna() if name})
    return study_mlflow_runs.aliases(names)
