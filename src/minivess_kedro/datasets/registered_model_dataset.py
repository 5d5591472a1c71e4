"""``RegisteredModelDataset``: saving a trained model registers it in the MLflow model registry."""

from __future__ import annotations

import json
import logging
import tempfile
from importlib.metadata import requires
from pathlib import Path
from typing import Any

import mlflow
import torch
from mlflow import MlflowClient

from minivess_kedro.datasets.bytes_file_dataset import BytesFileDataset
from minivess_kedro.training.distributed import state_digest
from minivess_kedro.training.launch import is_main_process

logger = logging.getLogger(__name__)
MODEL_CODE = Path(__file__).with_name("dynunet_pyfunc.py")
NOT_REGISTERED = {"run_id": "", "registered_model": "", "version": ""}


class RegisteredModelDataset(BytesFileDataset[dict]):
    """Saves a model package ``{"name", "state_dict", "model_config"}`` as a version of the
    registered model ``name``, logged in the active run (``checkpoints/best_model.pt`` and the
    ``model/`` pyfunc of ``dynunet_pyfunc.py``), and writes the record
    ``{"run_id", "registered_model", "version"}`` to ``filepath``; loading reads that record.

    The version is tagged with the run's tags named in ``version_tags`` and the weights' SHA-256;
    a package whose weights a version already holds is not registered again (a rerun of a
    finished run: one model, one version). Without an active run (MLflow off, DDP ranks > 0)
    nothing is registered and the record holds empty strings.
    """

    def __init__(self, *, filepath: str, version_tags: list[str] | tuple[str, ...] = (), **kwargs: Any) -> None:
        super().__init__(filepath=filepath, **kwargs)
        self._version_tags = tuple(version_tags)

    def load(self) -> dict:
        raw, _ = self._read_bytes()
        return json.loads(raw)

    def save(self, data: dict) -> None:
        run = mlflow.active_run()
        if run is None and is_main_process():  # DDP ranks > 0 have no run by design: rank 0 registers
            logger.warning("No active MLflow run (kedro-mlflow disabled?): %s not registered", data["name"])
        record = NOT_REGISTERED if run is None else self._register(data, run)
        self._write_bytes(self._save_path(), json.dumps(record, indent=1).encode())

    def _register(self, package: dict, run) -> dict:
        name, state = package["name"], package["state_dict"]
        run_tags = MlflowClient().get_run(run.info.run_id).data.tags
        tags = {key: run_tags[key] for key in self._version_tags if key in run_tags}
        tags["weights_sha256"] = state_digest(state)
        version = self._registered_version(name, tags["weights_sha256"])
        if version is not None:
            logger.info("Model %s version %s already holds these weights: not registered again", name, version)
        else:
            version = self._log_and_register(name, state, package["model_config"], tags)
            logger.info("Registered %s version %s (run %s)", name, version, run.info.run_id)
        return {"run_id": run.info.run_id, "registered_model": name, "version": version}

    @staticmethod
    def _registered_version(name: str, weights: str) -> str | None:
        versions = MlflowClient().search_model_versions(f"name = '{name}' and tags.weights_sha256 = '{weights}'")
        return str(min(int(version.version) for version in versions)) if versions else None

    @staticmethod
    def _log_and_register(name: str, state: dict, model_config: dict, tags: dict[str, str]) -> str:
        with tempfile.TemporaryDirectory() as folder:
            state_path, config_path = Path(folder) / "best_model.pt", Path(folder) / "model_config.json"
            torch.save(state, state_path)
            config_path.write_text(json.dumps(model_config, indent=1))
            mlflow.log_artifact(str(state_path), artifact_path="checkpoints")
            return log_model_version(name, {"state_dict": state_path, "model_config": config_path}, tags)


def log_model_version(name: str, artifacts: dict[str, Path], tags: dict[str, str], logged_as: str = "model") -> str:
    """Logs ``dynunet_pyfunc.py`` with ``artifacts`` in the active run as ``logged_as``, registers
    it as a new version of ``name``, tags the version and returns its number."""
    info = mlflow.pyfunc.log_model(
        name=logged_as,
        python_model=str(MODEL_CODE),
        artifacts={key: str(path) for key, path in artifacts.items()},
        pip_requirements=[r for r in requires("minivess_kedro") or [] if "extra ==" not in r],
        registered_model_name=name,
    )
    version = str(info.registered_model_version)
    client = MlflowClient()
    for key, value in tags.items():
        client.set_model_version_tag(name, version, key, value)
    return version
