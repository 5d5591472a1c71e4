"""The MLflow record of a small test-env study, as plain JSON (what a run and the registry hold).

``python -m tests.pipelines.mlflow_record OUT.json`` writes it for the current code
(``... OUT.json PROJECT demo`` the record of the demo runs already in PROJECT's mlflow.db): the file
``mlflow_record_expected.json`` beside this module was written so before MLflow logging moved from
the nodes into catalog datasets and hooks (edits since: the dataset fingerprint, which changed
when NIfTI files stopped carrying gzip's timestamp; the ``training.val_windows`` parameter,
with which validation scores seeded windows and logs no ``val_masd_um``; the evaluation's
``sliding_window.roi_size`` and overlap 0.25; the registry aliases the report sets, its
``promotions.csv`` artifact and ``reporting.promotion`` parameters, and the ``registered_model.json``
an evaluation run records; issue 26: the run-aware comparison columns, the reporting parameters of
its families, margins and grid, ``evaluated_weights_sha256``, NSD per volume (``nsd_tau_rule``
column, the ``nsd_tau`` tag naming the rule) and ``training.selection_start``; issue 28: the params
hash of ``inference.save_segments`` and ``inference.save_ome_tiff``; the report's fold ensemble
registered as version 2 with the aliases, the ensemble columns of ``promotions.csv``, the params hash
of ``inference.postprocessing: auto``, ``inference.allow_postprocessing_mismatch`` and ``export``), and
``test_mlflow_record.py`` compares today's record with it key by key.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

import pandas as pd
from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project
from mlflow import MlflowClient

from tests.conftest import scratch_project

CELL = {"loss": "dice_ce", "fold_idx": 0}
# The commands of the study, in order: the whole study of one cell, a re-evaluation, a report.
COMMANDS = [("study", None), ("evaluation", ["evaluation"]), ("report", ["reporting"])]
# Tags whose values describe what a run is (compared as values; the others by key only).
IDENTITY_TAGS = (
    "loss",
    "fold_idx",
    "seed",
    "protocol",
    "compute_profile",
    "experiment_phase",
    "dataset_fingerprint",
    "evaluated",
    "nsd_tau",
    "kedro_env",
    "params_hash",
    "mlflow.runName",
    "checkpoint_dir",
)
# Set by MLflow from the calling process (its script, git checkout, user): not the project's record.
CALLER_TAGS = ("mlflow.source.", "mlflow.user")
VERSION_TAGS = ("loss", "fold_idx", "seed", "protocol", "compute_profile", "dataset_fingerprint", "checkpoint_dir")


def kedro_run(project: Path, pipelines: list[str] | None, runtime: dict) -> None:
    """``kedro run --env test [--pipelines ...] [--params ...]`` in ``project``."""
    bootstrap_project(project)
    with KedroSession.create(project_path=project, env="test", runtime_params=runtime) as session:
        session.run(pipeline_names=pipelines)


def run_study(project: Path) -> None:
    """The three commands of :data:`COMMANDS` in ``project`` (the working directory)."""
    for _, pipelines in COMMANDS:
        kedro_run(project, pipelines, CELL if pipelines != ["reporting"] else {})


def _artifacts(client: MlflowClient, run_id: str, folder: str | None = None) -> list[str]:
    paths = []
    for artifact in client.list_artifacts(run_id, folder):
        paths += _artifacts(client, run_id, artifact.path) if artifact.is_dir else [artifact.path]
    return paths


def _content(client: MlflowClient, run_id: str, path: str) -> object:
    """JSON artifacts as their data; CSV artifacts as their columns and row count."""
    local = Path(client.download_artifacts(run_id, path))
    if path.endswith(".json"):
        return json.loads(local.read_text())
    if path.endswith(".csv"):
        table = pd.read_csv(local) if local.read_text().strip() else pd.DataFrame()
        return {"columns": sorted(table.columns), "rows": len(table)}
    return None


def _run_record(client: MlflowClient, run, project: Path) -> dict:
    artifacts = sorted(_artifacts(client, run.info.run_id))
    return {
        "status": run.info.status,
        "params": {key: value.replace(str(project), "<project>") for key, value in run.data.params.items()},
        "tags": sorted(key for key in run.data.tags if not key.startswith(CALLER_TAGS)),
        "identity_tags": {key: run.data.tags[key] for key in IDENTITY_TAGS if key in run.data.tags},
        "metrics": {
            key: [m.step for m in client.get_metric_history(run.info.run_id, key)] for key in sorted(run.data.metrics)
        },
        "artifacts": artifacts,
        "contents": {
            path: _content(client, run.info.run_id, path)
            for path in artifacts
            if path.endswith((".json", ".csv")) and not path.startswith("model/")
        },
    }


def _named_runs(value: object, names: dict[str, str]) -> object:
    """``value`` with every run id in it replaced by ``<run name>`` (ids differ between studies)."""
    if isinstance(value, dict):
        return {key: _named_runs(item, names) for key, item in value.items()}
    if isinstance(value, list):
        return [_named_runs(item, names) for item in value]
    return f"<{names[value]}>" if isinstance(value, str) and value in names else value


def study_record(project: Path, env: str = "test") -> dict:
    """Every run of the env's experiment (in start order) and every version of its registered model."""
    client = MlflowClient(tracking_uri=f"sqlite:///{project / 'mlflow.db'}")
    experiment = client.get_experiment_by_name(f"minivess-{env}")
    runs = sorted(client.search_runs([experiment.experiment_id]), key=lambda run: run.info.start_time)
    names = {run.info.run_id: run.info.run_name for run in runs}
    versions = client.search_model_versions(f"name = 'minivess-dynunet-{env}'")
    return {
        "runs": [_named_runs({"name": run.info.run_name} | _run_record(client, run, project), names) for run in runs],
        "model_versions": [
            {
                "version": str(version.version),
                "run": names.get(version.run_id, "?"),
                "tags": sorted(version.tags),
                "identity_tags": {key: version.tags[key] for key in VERSION_TAGS if key in version.tags},
                # search_model_versions leaves aliases out: get_model_version has them.
                "aliases": sorted(client.get_model_version(version.name, version.version).aliases),
            }
            for version in sorted(versions, key=lambda v: int(v.version))
        ],
    }


def main(output: str, project: str | None = None, env: str = "test") -> None:
    """Writes the record of a fresh test-env study, or of the env's runs in an existing project."""
    import os  # noqa: PLC0415

    os.environ["KEDRO_DISABLE_TELEMETRY"] = "1"
    if project is not None:
        Path(output).write_text(json.dumps(study_record(Path(project), env), indent=1, sort_keys=True) + "\n")
        return
    with tempfile.TemporaryDirectory() as folder:
        project = scratch_project(Path(folder) / "project")
        os.chdir(project)
        run_study(project)
        Path(output).write_text(json.dumps(study_record(project), indent=1, sort_keys=True) + "\n")


if __name__ == "__main__":
    main(*sys.argv[1:])
