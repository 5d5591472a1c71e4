"""``EnsembleRegistryDataset``: saving registers the promoted losses' fold ensembles."""

from __future__ import annotations

import json
import logging
import tempfile
from pathlib import Path

import mlflow
from mlflow import MlflowClient

from minivess_kedro.datasets.bytes_file_dataset import BytesFileDataset
from minivess_kedro.datasets.registered_model_dataset import log_model_version
from minivess_kedro.datasets.registry_model_dataset import download_version, read_weights
from minivess_kedro.inference.registered_model import ENSEMBLE_RECORD, ModelReferenceError, member_artifact
from minivess_kedro.reporting.ensembles import ensemble_sha256
from minivess_kedro.training.distributed import state_digest

logger = logging.getLogger(__name__)
#: The tag an ensemble version is found by when the same ensemble is registered again.
KEY_TAG = "ensemble_sha256"


class EnsembleRegistryDataset(BytesFileDataset[dict]):
    """Saves ``{loss: request}`` (:func:`~minivess_kedro.reporting.ensembles.ensemble_request`)
    as one registered model version per loss holding every member's weights, and writes the
    record ``{loss: {"model_name", "version", "run_id", "ensemble_sha256", "members",
    "postprocessing"}}`` (``{loss: {"refused": reason}}`` for one that could not be) to
    ``filepath``; loading reads that record.

    Each member's weights are downloaded from its version and read with ``weights_only``, and
    their digest must be the one the verdict's evaluation scored. The ensemble is logged in the
    active run (the report's) as ``ensemble-<loss>`` and tagged ``kind=ensemble``, ``loss``,
    ``members`` (run ids), ``member_versions``, ``postprocessing``, ``dataset_fingerprint`` and
    ``ensemble_sha256``; an ensemble a version already holds (same members, configuration and
    post-processing) is not registered again.
    """

    def load(self) -> dict:
        raw, _ = self._read_bytes()
        return json.loads(raw)

    def save(self, data: dict) -> None:
        record = {loss: self._registered(request) for loss, request in sorted(data.items())}
        self._write_bytes(self._save_path(), json.dumps(record, indent=1).encode())

    def _registered(self, request: dict) -> dict:
        if "refused" in request:
            return {"refused": request["refused"]}
        if mlflow.active_run() is None:
            return {"refused": "no active MLflow run to log the ensemble in (kedro-mlflow disabled?)"}
        try:
            return self._register(request)
        except (ModelReferenceError, ValueError) as err:  # a member gone, refused or of another network
            logger.warning("Ensemble of %s not registered: %s", request["loss"], err)
            return {"refused": str(err)}

    @staticmethod
    def _register(request: dict) -> dict:
        name, loss, members = request["model_name"], request["loss"], request["members"]
        client = MlflowClient()
        with tempfile.TemporaryDirectory(prefix="ensemble-") as scratch:
            folder = Path(scratch)
            artifacts: dict[str, Path] = {}
            configs = []
            for index, member in enumerate(members):
                files = download_version(f"models:/{name}/{member['version']}", folder / f"download_{index}")
                where = f"models:/{name}/{member['version']} (run {member['run_id']})"
                state = read_weights(files.weights[0], where)
                if len(files.weights) != 1 or state_digest(state) != member["weights_sha256"]:
                    raise ValueError(
                        f"{where}: its weights are not the ones the verdict's evaluation scored "
                        f"({member['weights_sha256'][:12]})"
                    )
                configs.append(json.loads(files.model_config.read_text()))
                artifacts[member_artifact(index)] = files.weights[0]
            if any(config != configs[0] for config in configs):
                raise ValueError(f"the members of {loss}'s ensemble have different model configs: not one network")
            key = ensemble_sha256(name, configs[0], [m["weights_sha256"] for m in members], request["postprocessing"])
            found = client.search_model_versions(f"name = '{name}' and tags.{KEY_TAG} = '{key}'")
            ensemble = {"loss": loss, "members": members, "postprocessing": request["postprocessing"]}
            if found:
                version = min(found, key=lambda v: int(v.version))
                logger.info(
                    "%s version %s already is the ensemble of %s: not registered again", name, version.version, loss
                )
                return {"model_name": name, "version": str(version.version), "run_id": version.run_id or ""} | {
                    KEY_TAG: key,
                    **ensemble,
                }
            (folder / "model_config.json").write_text(json.dumps(configs[0], indent=1))
            (folder / "ensemble.json").write_text(json.dumps(ensemble, indent=1))
            artifacts |= {"model_config": folder / "model_config.json", ENSEMBLE_RECORD: folder / "ensemble.json"}
            tags = {
                "kind": "ensemble",
                "loss": loss,
                "members": ",".join(m["run_id"] for m in members),
                "member_versions": ",".join(str(m["version"]) for m in members),
                "postprocessing": json.dumps(request["postprocessing"], sort_keys=True),
                "dataset_fingerprint": request.get("dataset_fingerprint", ""),
                KEY_TAG: key,
            }
            version = log_model_version(name, artifacts, tags, logged_as=f"ensemble-{loss}")
        run_id = mlflow.active_run().info.run_id
        logger.info("Registered %s version %s: the ensemble of %d %s networks", name, version, len(members), loss)
        return {"model_name": name, "version": version, "run_id": run_id, KEY_TAG: key, **ensemble}
