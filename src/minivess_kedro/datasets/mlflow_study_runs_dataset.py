"""``MlflowStudyRunsDataset``: the study's evaluated MLflow runs, read back with their artifacts."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import mlflow
from kedro.io import AbstractDataset
from kedro.io.core import DatasetError
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException


@dataclass(frozen=True)
class LoggedRun:
    """What the report needs of one MLflow run: its identity, tags and params."""

    run_id: str
    start_time: int
    tags: dict[str, str] = field(default_factory=dict)
    params: dict[str, str] = field(default_factory=dict)


class StudyRuns:
    """The runs of the active experiment and the artifacts its sinks logged in them.

    Args:
        artifacts: name -> the catalog config of the ``MlflowArtifactDataset`` that logs it (in
            catalog.yml a YAML alias of that entry), so an artifact's path is written once.
    """

    def __init__(self, artifacts: dict[str, dict]) -> None:
        self._artifacts = artifacts
        self._client = MlflowClient()

    def evaluated(self) -> list[LoggedRun]:
        """The FINISHED runs tagged ``evaluated`` of the active run's experiment, and the active run
        itself once it is evaluated (a whole-study ``kedro run`` reports on the run it is in).

        Raises:
            RuntimeError: no active run (the reporting pipeline runs inside kedro-mlflow's run).
        """
        active = mlflow.active_run()
        if active is None:
            raise RuntimeError(
                "no active MLflow run: the reporting pipeline needs kedro-mlflow's run (or reporting.run_ids)"
            )
        runs = self._client.search_runs(
            [active.info.experiment_id], filter_string="tags.evaluated = 'true' and attributes.status = 'FINISHED'"
        )
        current = self._client.get_run(active.info.run_id)
        if current.data.tags.get("evaluated") == "true":
            runs = [*runs, current]
        return [self._logged(run) for run in runs]

    def by_id(self, run_ids: list[str] | tuple[str, ...]) -> list[LoggedRun]:
        """The runs named, whatever their experiment or state."""
        return [self._logged(self._client.get_run(run_id)) for run_id in run_ids]

    def artifact(self, run_id: str, name: str) -> Any | None:
        """The artifact ``name`` of the run, loaded with its sink's dataset type; ``None`` when the
        run has no such artifact (runs from before it was logged) or it is empty."""
        config = self._artifacts[name]
        filename = PurePosixPath(config["dataset"]["filepath"]).name
        folder = config.get("artifact_path") or ""
        path = f"{folder}/{filename}" if folder else filename
        if path not in {artifact.path for artifact in self._client.list_artifacts(run_id, folder or None)}:
            return None
        with tempfile.TemporaryDirectory() as scratch:
            local = mlflow.artifacts.download_artifacts(run_id=run_id, artifact_path=path, dst_path=scratch)
            if not Path(local).read_text().strip():
                return None
            dataset = AbstractDataset.from_config(name, {**config["dataset"], "filepath": local})
            return dataset.load()

    def model_version(self, run_id: str) -> tuple[str, str] | None:
        """``(registered model name, version)`` of the model the run evaluated: the evaluation's
        record of it (``registered_model``), else the version registered in the run itself (runs
        evaluated before the record was logged); ``None`` when neither exists."""
        found = self.evaluated_model(run_id)
        return None if found is None else (found["name"], found["version"])

    def evaluated_model(self, run_id: str) -> dict[str, str] | None:
        """``{"name", "version", "weights_sha256", "evaluated_weights_sha256"}`` of the model the
        run evaluated (see :meth:`model_version`): the version's ``weights_sha256`` tag and the
        digest of the ``best_model.pt`` the evaluation scored (empty when not recorded: runs
        evaluated before it was); ``None`` without a registered version."""
        record = self.artifact(run_id, "registered_model") if "registered_model" in self._artifacts else None
        if record and record.get("registered_model") and record.get("version"):
            name, version = str(record["registered_model"]), str(record["version"])
            evaluated = str(record.get("evaluated_weights_sha256", ""))
        else:
            versions = self._client.search_model_versions(f"run_id = '{run_id}'")
            if not versions:
                return None
            first = min(versions, key=lambda v: int(v.version))  # one run registers one model (same weights: one)
            name, version, evaluated = first.name, str(first.version), ""
        try:
            registered = self._client.get_model_version(name, version).tags.get("weights_sha256", "")
        except MlflowException as err:
            if err.error_code != "RESOURCE_DOES_NOT_EXIST":
                raise
            registered = ""  # the version was deleted since: nothing to promote to
        return {"name": name, "version": version, "weights_sha256": registered, "evaluated_weights_sha256": evaluated}

    def aliases(self, names: list[str] | tuple[str, ...]) -> dict[str, dict[str, dict[str, str]]]:
        """``{model name: {alias: {"version", "dataset_fingerprint", "loss"}}}`` of the registered
        models named (absent ones: ``{}``): where each alias points, the data its model was trained
        on and its loss (the version's ``dataset_fingerprint`` and ``loss`` tags, empty when it has
        none)."""
        found: dict[str, dict[str, dict[str, str]]] = {}
        for name in names:
            try:
                model = self._client.get_registered_model(name)
            except MlflowException as err:
                if err.error_code != "RESOURCE_DOES_NOT_EXIST":
                    raise
                found[name] = {}
                continue
            found[name] = {}
            for alias, version in sorted((model.aliases or {}).items()):
                tags = self._client.get_model_version(name, str(version)).tags
                found[name][alias] = {
                    "version": str(version),
                    "dataset_fingerprint": tags.get("dataset_fingerprint", ""),
                    "loss": tags.get("loss", ""),
                }
        return found

    @staticmethod
    def _logged(run) -> LoggedRun:
        return LoggedRun(run.info.run_id, run.info.start_time, dict(run.data.tags), dict(run.data.params))


class MlflowStudyRunsDataset(AbstractDataset[None, StudyRuns]):
    """Loads a :class:`StudyRuns` over the tracking store kedro-mlflow configured (read-only).

    Args:
        artifacts: name -> the config of the sink that logs it (see :class:`StudyRuns`).
    """

    def __init__(self, *, artifacts: dict[str, dict], metadata: dict[str, Any] | None = None) -> None:
        for name, config in artifacts.items():
            if "filepath" not in (config.get("dataset") or {}):
                raise DatasetError(f"MlflowStudyRunsDataset: artifacts.{name} is not an MlflowArtifactDataset config")
        self._artifact_configs = artifacts
        self.metadata = metadata

    def load(self) -> StudyRuns:
        return StudyRuns(self._artifact_configs)

    def save(self, data: None) -> None:
        raise DatasetError("MlflowStudyRunsDataset is read-only: runs are written by the pipelines' sinks")

    def _exists(self) -> bool:
        return True  # a view of the tracking store: an empty experiment is reported by the node

    def _describe(self) -> dict[str, Any]:
        return {"artifacts": sorted(self._artifact_configs)}
