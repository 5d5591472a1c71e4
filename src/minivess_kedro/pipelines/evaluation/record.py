"""Node that turns the evaluation into the run's record: summary metrics and the model's record
next to its metrics (the catalog's MLflow sinks log them; docs/architecture.md)."""

from __future__ import annotations

import math

import pandas as pd
import torch

from minivess_kedro.training.distributed import state_digest
from minivess_kedro.training.lineage import check_same_model


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


def record_evaluation(
    volume_metrics: pd.DataFrame,
    metrics_summary: pd.DataFrame,
    model_lineage: dict,
    training_history: pd.DataFrame,
    loss: str,
    seed: int,
    fold_split: dict,
    registered_model: dict,
    best_model: dict[str, torch.Tensor],
) -> tuple[dict, dict, pd.DataFrame, dict, dict]:
    """The evaluation's summary as run metrics, and the evaluated model's lineage, training
    history and registry record beside the metrics: a re-evaluation (``--pipelines evaluation``)
    is a run of its own, and the reporting pipeline finds everything of a run in the run itself
    (the registry record says which model version its promotion would point an alias at).

    Raises:
        LeakageError: ``volume_metrics`` was scored on another model's predictions.

    Returns:
        ``(evaluation_metrics, evaluated_model_lineage, evaluated_training_history,
        last_evaluated_run, evaluated_registered_model)``: the metrics as ``{name: {"value",
        "step": 0}}``, the lineage and the history unchanged, ``{"loss", "fold_idx", "seed"}`` of
        the evaluated cell (the reporting pipeline runs after it), and the training's
        ``{"run_id", "registered_model", "version"}`` (empty strings when it registered none)
        with ``evaluated_weights_sha256``, the digest of the ``best_model.pt`` whose predictions
        were scored: a promotion checks it against the registered version's own digest.
    """
    stamps = set(volume_metrics["lineage_sha256"]) if "lineage_sha256" in volume_metrics.columns else {""}
    check_same_model(
        model_lineage, "" if len(stamps) != 1 else str(stamps.pop()), "volume_metrics.csv", "score_predictions"
    )
    metrics = {name: {"value": value, "step": 0} for name, value in summary_metrics(metrics_summary).items()}
    cell = {"loss": loss, "fold_idx": fold_split["fold_idx"], "seed": seed}
    evaluated = dict(registered_model) | {"evaluated_weights_sha256": state_digest(best_model)}
    return metrics, model_lineage, training_history, cell, evaluated
