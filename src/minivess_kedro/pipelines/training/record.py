"""Node that turns a finished training into the run's record (the catalog's MLflow sinks and the
registered model dataset log it; docs/architecture.md)."""

from __future__ import annotations

import torch

from minivess_kedro.pipelines.training.params import TrainingParams


def record_training_run(
    best_model: dict[str, torch.Tensor],
    model_config: dict,
    training_summary: dict,
    fold_split: dict,
    params: dict,
) -> tuple[dict, dict, dict]:
    """The model package to register, the run's summary metrics and the fold's split file.

    Returns:
        ``(registered_model, training_metrics, training_split)``: ``{"name", "state_dict",
        "model_config"}`` (registered on save, as ``training.registered_model_name``),
        ``{"best_val_dsc", "best_epoch"}`` as ``{name: {"value", "step": 0}}``, and the split
        the model was trained on (``split.json`` of the run).
    """
    name = TrainingParams.model_validate(params).registered_model_name
    package = {"name": name, "state_dict": best_model, "model_config": model_config}
    metrics = {key: {"value": float(training_summary[key]), "step": 0} for key in ("best_val_dsc", "best_epoch")}
    return package, metrics, fold_split
