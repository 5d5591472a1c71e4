"""Node that logs the evaluation to the active MLflow run."""

from __future__ import annotations

import logging
import math

import mlflow
import pandas as pd

from minivess_kedro.pipelines.training.params import TrainingParams
from minivess_kedro.pipelines.training.tracking import run_tags
from minivess_kedro.training.lineage import check_same_model

logger = logging.getLogger(__name__)


def summary_metrics(summary: pd.DataFrame) -> dict[str, float]:
    """``test_dsc``, ``test_dsc_ci_low``, ... for the raw prediction; ``test_components_dsc``, ...
    for a post-processed one; the fold's validation volumes as ``val_eval_*`` (``val_dsc`` is the
    per-epoch training curve)."""
    values = {}
    for row in summary.itertuples():
        split = "val_eval" if row.split == "val" else row.split
        prefix = split if row.postprocessing == "none" else f"{split}_{row.postprocessing}"
        values[f"{prefix}_{row.metric}"] = float(row.mean)
        values[f"{prefix}_{row.metric}_ci_low"] = float(row.ci_low)
        values[f"{prefix}_{row.metric}_ci_high"] = float(row.ci_high)
    return {k: v for k, v in values.items() if not math.isnan(v)}  # a 1-volume split has no CI


def log_evaluation(
    volume_metrics: pd.DataFrame,
    metrics_summary: pd.DataFrame,
    baseline_metrics: pd.DataFrame,
    training_history: pd.DataFrame,
    loss: str,
    seed: int,
    fold_split: dict,
    model_lineage: dict,
    dataset_fingerprint: dict,
    training: dict,
) -> dict:
    """Logs the summary as metrics and the tables as artifacts (``evaluation/``), so that the
    reporting pipeline finds everything of a run in the run itself. The run's ``protocol`` and
    ``compute_profile`` tags and its ``model_lineage.json`` come from the model's own record (a
    re-evaluation does not describe today's configuration as the model's).

    Raises:
        LeakageError: ``volume_metrics`` was scored on another model's predictions.

    Returns:
        ``{"run_id", "loss", "fold_idx", "seed"}`` of the evaluated run (the reporting pipeline runs
        after it, and includes it even while it is still running).
    """
    fold_idx = fold_split["fold_idx"]
    stamps = set(volume_metrics["lineage_sha256"]) if "lineage_sha256" in volume_metrics.columns else {""}
    check_same_model(
        model_lineage, "" if len(stamps) != 1 else str(stamps.pop()), "volume_metrics.csv", "score_predictions"
    )
    run = mlflow.active_run()
    if run is None:
        logger.warning("No active MLflow run: evaluation not logged")
        return {"run_id": "", "loss": loss, "fold_idx": fold_idx, "seed": seed}
    # A re-evaluation (--pipelines evaluation) is a run of its own: it says what it evaluated.
    tags = run_tags(loss, fold_split, seed, TrainingParams.model_validate(training), dataset_fingerprint)
    trained = model_lineage.get("training", {}).get("compute", {})
    mlflow.set_tags(tags | {"protocol": model_lineage["protocol"], "compute_profile": trained.get("profile", "?")})
    mlflow.log_dict(model_lineage, "model_lineage.json")
    if "nsd_tau" in volume_metrics.columns and len(volume_metrics):  # the tolerance used (auto resolved)
        mlflow.set_tag("nsd_tau", str(float(volume_metrics["nsd_tau"].iloc[0])))
    mlflow.log_metrics(summary_metrics(metrics_summary))
    mlflow.log_text(volume_metrics.to_csv(index=False), "evaluation/volume_metrics.csv")
    mlflow.log_text(metrics_summary.to_csv(index=False), "evaluation/metrics_summary.csv")
    mlflow.log_text(baseline_metrics.to_csv(index=False), "evaluation/baseline_metrics.csv")
    mlflow.log_text(training_history.to_csv(index=False), "training_history.csv")
    mlflow.set_tag("evaluated", "true")
    return {"run_id": run.info.run_id, "loss": loss, "fold_idx": fold_idx, "seed": seed}
