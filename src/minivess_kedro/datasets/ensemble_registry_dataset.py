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
        try:
            return self._register(request)
        except (ModelReferenceError, ValueError) as err:  # a member gone, refused or of another network
            logger.warning("Ensemble of %s not registered: %s", request["loss"], err)
            return {"refused": str(err)}

    @staticmethod
    def _register(request: dict) -> dict:
        """The ensemble's version: found by its key when registered before (nothing downloaded
        but the first member's configuration), else registered in the active run.

        Raises:
            RuntimeError: a new version is needed and no MLflow run is active (an environment
                problem, not the verdict's: the report stops rather than remove aliases).
        """
        name, loss, members = request["model_name"], request["loss"], request["members"]
        ensemble = {"loss": loss, "members": members, "postprocessing": request["postprocessing"]}
        client = MlflowClient()
        with tempfile.TemporaryDirectory(prefix="ensemble-") as scratch:
            folder = Path(scratch)
            first = download_version(f"models:/{name}/{members[0]['version']}", folder / "first", weights=False)
            config = json.loads(first.model_config.read_text())
            key = ensemble_sha256(name, config, [m["weights_sha256"] for m in members], request["postprocessing"])
            found = client.search_model_versions(f"name = '{name}' and tags.{KEY_TAG} = '{key}'")
            if found:
                version = min(found, key=lambda v: int(v.version))
                logger.info(
                    "%s version %s already is the ensemble of %s: not registered again", name, version.version, loss
                )
                return {"model_name": name, "version": str(version.version), "run_id": version.run_id or ""} | {
                    KEY_TAG: key,
                    **ensemble,
                }
            if mlflow.active_run() is None:
                raise RuntimeError(
                    f"the ensemble of {loss} must be registered, but no MLflow run is active to log it in "
                    "(the reporting pipeline runs inside kedro-mlflow's run: is tracking disabled for it?)"
                )
            artifacts = _checked_members(name, members, config, folder)
            (folder / "model_config.json").write_text(json.dumps(config, indent=1))
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


def _checked_members(name: str, members: list[dict], config: dict, folder: Path) -> dict[str, Path]:
    """Each member's weights file, downloaded and checked: one state dict whose digest is the one
    the verdict's evaluation scored, of the same network configuration as the first member.

    Raises:
        ValueError: naming the member and both digests, or the differing configuration.
    """
    artifacts = {}
    for index, member in enumerate(members):
        files = download_version(f"models:/{name}/{member['version']}", folder / f"member_{index}")
        where = f"models:/{name}/{member['version']} (run {member['run_id']})"
        if len(files.weights) != 1:
            raise ValueError(f"{where}: holds {len(files.weights)} networks, not one trained network")
        digest = state_digest(read_weights(files.weights[0], where))
        if digest != member["weights_sha256"]:
            raise ValueError(
                f"{where}: its weights have digest {digest[:12]}, not the {member['weights_sha256'][:12]} the "
                "verdict's evaluation scored"
            )
        if json.loads(files.model_config.read_text()) != config:
            raise ValueError(f"{where}: another model config than the first member's: not one network")
        artifacts[member_artifact(index)] = files.weights[0]
    return artifacts
