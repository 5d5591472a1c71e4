"""Node that records a finished training run in MLflow (tags, artifacts, registered model)."""

from __future__ import annotations

import json
import logging
import tempfile
from importlib.metadata import requires
from pathlib import Path

import mlflow
import pandas as pd
import torch
from mlflow import MlflowClient

from minivess_kedro.framework.launch import is_main_process
from minivess_kedro.framework.provenance import frozen_requirements, git_commit
from minivess_kedro.pipelines.training.params import TrainingParams
from minivess_kedro.training.distributed import state_digest

logger = logging.getLogger(__name__)
MODEL_CODE = Path(__file__).with_name("registered_model.py")


def run_tags(
    loss: str, fold_split: dict, seed: int, params: TrainingParams, dataset_fingerprint: dict
) -> dict[str, str]:
    """The tags that identify a run of the study (DESIGN.md section 5)."""
    return {
        "loss": loss,
        "fold_idx": str(fold_split["fold_idx"]),
        "seed": str(seed),
        "protocol": str(fold_split.get("protocol") or "unknown"),
        "compute_profile": params.compute.profile,
        "git_commit": git_commit(),
        "dataset_fingerprint": dataset_fingerprint["fingerprint"],
        "experiment_phase": params.experiment_phase,
        "checkpoint_dir": params.checkpoint_dir,
    }


def start_tracking(tags: dict[str, str]) -> None:
    """Tags the active run at once (a killed run still says what it was) and ends, as FAILED, the
    runs of the same checkpoint folder that a kill -9 or a power loss left RUNNING."""
    run = mlflow.active_run()
    if run is None:
        return
    mlflow.set_tags(tags)
    client = MlflowClient()
    stale = client.search_runs(
        [run.info.experiment_id],
        filter_string=f"attributes.status = 'RUNNING' and tags.checkpoint_dir = '{tags['checkpoint_dir']}'",
    )
    for other in stale:
        if other.info.run_id != run.info.run_id:
            client.set_tag(other.info.run_id, "ended_by", f"interrupted; resumed in run {run.info.run_id}")
            client.set_terminated(other.info.run_id, status="FAILED")
            logger.warning("Run %s was left RUNNING by an interrupted process: marked FAILED", other.info.run_id)


def _registered_version(name: str, weights: str) -> str | None:
    """The version of ``name`` that already holds these weights (a rerun of a finished run)."""
    versions = MlflowClient().search_model_versions(f"name = '{name}' and tags.weights_sha256 = '{weights}'")
    return str(min(int(version.version) for version in versions)) if versions else None


def _register(best_model: dict, model_config: dict, name: str, tags: dict[str, str]) -> str:
    """Logs the model and registers it as a new version of ``name``, unless a version with the
    same weights exists (then that version is returned: one model, one version)."""
    tags = tags | {"weights_sha256": state_digest(best_model)}
    existing = _registered_version(name, tags["weights_sha256"])
    if existing is not None:
        logger.info("Model %s version %s already holds these weights: not registered again", name, existing)
        return existing
    with tempfile.TemporaryDirectory() as folder:
        state_path, config_path = Path(folder) / "best_model.pt", Path(folder) / "model_config.json"
        torch.save(best_model, state_path)
        config_path.write_text(json.dumps(model_config, indent=1))
        mlflow.log_artifact(str(state_path), artifact_path="checkpoints")
        info = mlflow.pyfunc.log_model(
            name="model",
            python_model=str(MODEL_CODE),
            artifacts={"state_dict": str(state_path), "model_config": str(config_path)},
            pip_requirements=[r for r in requires("minivess_kedro") or [] if "extra ==" not in r],
            registered_model_name=name,
        )
    version = info.registered_model_version
    client = MlflowClient()
    for key, value in tags.items():
        client.set_model_version_tag(name, str(version), key, value)
    return str(version)


def log_training_run(
    best_model: dict[str, torch.Tensor],
    model_config: dict,
    training_summary: dict,
    training_history: pd.DataFrame,
    fold_split: dict,
    model_lineage: dict,
    dataset_fingerprint: dict,
    loss: str,
    seed: int,
    params: dict,
) -> dict:
    """Tags the active run and logs the artifacts of DESIGN.md section 5 (the resolved parameters
    are logged by the project hook); registers the best model, its version tagged with the
    volumes it was trained and selected on (``model_lineage.json`` in the run).

    Returns:
        ``{"run_id", "registered_model", "version"}`` (empty strings without an active run).
    """
    params = TrainingParams.model_validate(params)
    run = mlflow.active_run()
    if run is None:
        if is_main_process():  # DDP ranks other than 0 have no run by design: rank 0 records the job
            logger.warning("No active MLflow run (kedro-mlflow disabled?): nothing logged")
        return {"run_id": "", "registered_model": "", "version": ""}
    tags = run_tags(loss, fold_split, seed, params, dataset_fingerprint)
    commit = tags["git_commit"]
    mlflow.set_tags(tags)
    mlflow.log_metrics({"best_val_dsc": training_summary["best_val_dsc"], "best_epoch": training_summary["best_epoch"]})
    mlflow.log_dict(fold_split, "split.json")
    mlflow.log_dict(model_lineage, "model_lineage.json")
    mlflow.log_dict(model_config, "model_config.json")
    mlflow.log_text(frozen_requirements(), "requirements.txt")
    mlflow.log_text(commit + "\n", "git_commit.txt")
    mlflow.log_text(training_history.to_csv(index=False), "training_history.csv")
    version = _register(best_model, model_config, params.registered_model_name, tags)
    logger.info("Registered %s version %s (run %s)", params.registered_model_name, version, run.info.run_id)
    return {"run_id": run.info.run_id, "registered_model": params.registered_model_name, "version": version}
