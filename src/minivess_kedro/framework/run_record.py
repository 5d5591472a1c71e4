"""What an MLflow run says about itself: its tags, resolved config and provenance, set in one hook.

The nodes compute; the catalog's MLflow datasets log what they produce (docs/architecture.md); this
hook names and tags the run from what it runs on (DESIGN.md section 5):

- every tracked run: ``config/parameters.yml`` (base + env + ``--params``), ``kedro_env``,
  ``params_hash``;
- a loss x fold cell's run (a node reads the fold's split): the cell tags of :func:`cell_tags`
  when its first cell node starts, so a killed run still says what it was; a run that trains also
  logs ``requirements.txt`` and ``git_commit.txt`` and closes the runs of its checkpoint folder that
  a kill -9 left RUNNING; a run that only evaluates takes ``protocol`` and ``compute_profile`` from
  the model's lineage (a re-evaluation does not describe today's configuration as the model's);
- ``nsd_tau`` when the per-volume metrics are saved (how NSD was scored: the fixed tolerance, or
  ``auto (each volume's coarsest spacing)``), ``evaluated=true`` when the evaluation's record is;
- any other run is named after what it does (``report``, ``data-preparation``, its node names),
  never like a cell.
"""

from __future__ import annotations

import logging
from typing import Any

import mlflow
import yaml
from kedro.framework.hooks import hook_impl
from kedro_mlflow.framework.hooks.mlflow_hook import mlflow_hook
from mlflow import MlflowClient

from minivess_kedro.framework.provenance import frozen_requirements, git_commit
from minivess_kedro.metrics.tolerance import nsd_scoring
from minivess_kedro.pipelines.parameters import parameters_hash
from minivess_kedro.pipelines.training.params import TrainingParams

logger = logging.getLogger(__name__)

CELL_INPUT = "fold_split"  # a node that reads the fold's split works for one loss x fold cell
DATA_PREPARATION = frozenset({"data_ingestion", "splitting"})


def cell_tags(loss: str, fold_split: dict, seed: int, training: dict, dataset_fingerprint: dict) -> dict[str, str]:
    """The tags that identify a run of the study (DESIGN.md section 5)."""
    params = TrainingParams.model_validate(training)
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


def model_tags(model_lineage: dict) -> dict[str, str]:
    """The tags a re-evaluation takes from the model's own record, not from today's config."""
    trained = model_lineage.get("training", {}).get("compute", {})
    return {"protocol": str(model_lineage["protocol"]), "compute_profile": str(trained.get("profile", "?"))}


def non_cell_run_name(pipeline) -> str:
    """``report``, ``data-preparation`` or the node names of a run that is not a cell's."""
    pipelines = {tag for node in pipeline.nodes for tag in node.tags}
    if "reporting" in pipelines:
        return "report"
    if pipelines <= DATA_PREPARATION:
        return "data-preparation"
    return "+".join(sorted(node.name for node in pipeline.nodes))


def close_stale_runs(checkpoint_dir: str) -> None:
    """Ends, as FAILED, the runs of the same checkpoint folder that a kill -9 or a power loss left
    RUNNING (the active run resumes their training)."""
    run = mlflow.active_run()
    client = MlflowClient()
    stale = client.search_runs(
        [run.info.experiment_id],
        filter_string=f"attributes.status = 'RUNNING' and tags.checkpoint_dir = '{checkpoint_dir}'",
    )
    for other in stale:
        if other.info.run_id != run.info.run_id:
            client.set_tag(other.info.run_id, "ended_by", f"interrupted; resumed in run {run.info.run_id}")
            client.set_terminated(other.info.run_id, status="FAILED")
            logger.warning("Run %s was left RUNNING by an interrupted process: marked FAILED", other.info.run_id)


class StudyRunRecord:
    """Names, tags and documents the run kedro-mlflow opened (see the module docstring)."""

    def __init__(self) -> None:
        self._parameters: dict[str, Any] = {}
        self._env: str | None = None
        self._trains = False
        self._tagged = False

    @hook_impl
    def after_context_created(self, context) -> None:
        self._parameters = context.config_loader["parameters"]
        self._env = context.env

    @hook_impl
    def before_pipeline_run(self, run_params: dict[str, Any], pipeline) -> None:
        self._trains = "model_lineage" in pipeline.all_outputs()
        self._tagged = False
        # kedro-mlflow's hook (a plugin, so called before project hooks) has opened the run.
        if mlflow.active_run() is None:
            # kedro-mlflow 2.0.3 keeps the previous run's id on its (process-wide) hook; in a pipeline
            # it does not track (data preparation) its before_node_run would reopen that run of an
            # earlier session in this process (a notebook, the tests) and leave it open.
            mlflow_hook.run_id = None
            return
        mlflow.log_text(yaml.safe_dump(dict(self._parameters), sort_keys=True), "config/parameters.yml")
        tags = {
            "kedro_env": run_params.get("env") or self._env or "local",
            "params_hash": parameters_hash(self._parameters),
        }
        if not any(CELL_INPUT in node.inputs for node in pipeline.nodes):
            name = non_cell_run_name(pipeline)
            tags |= {"mlflow.runName": name, "experiment_phase": name}
        mlflow.set_tags(tags)

    @hook_impl
    def before_node_run(self, node, catalog, inputs: dict[str, Any]) -> None:
        if self._tagged or CELL_INPUT not in node.inputs or mlflow.active_run() is None:
            return
        self._tagged = True
        value = lambda name: inputs[name] if name in inputs else catalog.load(name)  # noqa: E731
        training = value("params:training")
        tags = cell_tags(
            value("params:loss"), value(CELL_INPUT), value("params:seed"), training, value("dataset_fingerprint")
        )
        if not self._trains and catalog.exists("model_lineage"):
            tags |= model_tags(catalog.load("model_lineage"))
        mlflow.set_tags(tags)
        if self._trains:
            close_stale_runs(tags["checkpoint_dir"])
            mlflow.log_text(frozen_requirements(), "requirements.txt")
            mlflow.log_text(tags["git_commit"] + "\n", "git_commit.txt")

    @hook_impl
    def after_dataset_saved(self, dataset_name: str, data: Any) -> None:
        if mlflow.active_run() is None:
            return
        scoring = nsd_scoring(data) if dataset_name == "volume_metrics" and len(data) else None
        if scoring is not None:  # the fixed tolerance, or "auto (each volume's coarsest spacing)"
            mlflow.set_tag("nsd_tau", scoring)
        if dataset_name == "last_evaluated_run":
            mlflow.set_tag("evaluated", "true")
