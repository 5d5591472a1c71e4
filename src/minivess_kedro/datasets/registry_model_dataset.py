"""``RegistryModelDataset``: a version of a registered model, by its ``models:/`` URI, as plain
weights and configuration (read-only)."""

from __future__ import annotations

import json
import pickle
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import mlflow
import torch
from kedro.io import AbstractDataset
from kedro.io.core import DatasetError
from mlflow import MlflowClient
from mlflow.entities.model_registry import ModelVersion
from mlflow.exceptions import MlflowException
from mlflow.models import Model

from minivess_kedro.inference.registered_model import (
    ENSEMBLE_RECORD,
    EXAMPLE_URI,
    ModelIdentity,
    ModelReference,
    ModelReferenceError,
    UnsafeWeightsError,
    parse_model_uri,
    weights_artifacts,
)

INFERENCE_EXAMPLE = f"kedro run --pipelines inference --params inference.input=/data/new,inference.model={EXAMPLE_URI}"


class RegistryModelDataset(AbstractDataset[None, dict[str, Any]]):
    """Loads the version that ``uri`` names from the registry kedro-mlflow configured.

    The alias or version is resolved with ``MlflowClient`` to the model's name, version and the
    run that logged it; of the version's pyfunc (``dynunet_pyfunc.py``) only the weights
    (``state_dict``, or an ensemble's ``member_<i>``), ``model_config`` and ``ensemble`` artifacts
    are downloaded, and the weights are read with ``torch.load(..., weights_only=True)``: nothing
    is unpickled and no logged code runs.

    Args:
        uri: the version's URI (empty: not given).
        key: the parameter that gives it, and ``example`` a command that does: what an
            unset URI's error says.

    Example catalog entry::

        inference_model:
          type: minivess_kedro.datasets.registry_model_dataset.RegistryModelDataset
          uri: ${runtime_params:inference.model, ""}
    """

    def __init__(
        self,
        *,
        uri: str = "",
        key: str = "inference.model",
        example: str = INFERENCE_EXAMPLE,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        self._uri, self.metadata = (uri or "").strip(), metadata
        self._missing = (
            f"{key} is not set: name the registered model version on the command line, e.g. `{example}` "
            "(or models:/<name>/<version>)"
        )

    def load(self) -> dict[str, Any]:
        """``{"model": ModelIdentity, "members": [state dict, ...], "model_config": dict,
        "ensemble": dict | None}``: one state dict for a training run's version, one per member
        for the report's ensemble version (``ensemble``: its record of members and post-processing).

        Raises:
            ModelReferenceError: no URI, a malformed one, or one naming no version (the message
                lists the registered models, or the model's aliases and versions).
            UnsafeWeightsError: a weights artifact that is not plain tensors.
        """
        if not self._uri:
            raise ModelReferenceError(self._missing)
        reference = parse_model_uri(self._uri)
        client = MlflowClient()
        version = _resolve(client, reference)
        identity = ModelIdentity(reference.name, str(version.version), version.run_id or "", reference.uri)
        where = f"{reference.uri} (version {identity.version}, run {identity.run_id})"
        with tempfile.TemporaryDirectory(prefix="registry-model-") as folder:
            files = download_version(f"models:/{reference.name}/{version.version}", Path(folder))
            members = [read_weights(path, where) for path in files.weights]
            config = _json(files.model_config, where, "model_config")
            ensemble = None if files.ensemble is None else _json(files.ensemble, where, ENSEMBLE_RECORD)
        if ensemble is not None and len(ensemble.get("members", [])) != len(members):
            raise ModelReferenceError(
                f"{where}: its ensemble record names {len(ensemble.get('members', []))} members but it holds "
                f"{len(members)} weights artifacts"
            )
        if ensemble is not None:
            identity = replace(identity, members=tuple(str(m["run_id"]) for m in ensemble.get("members", [])))
        return {"model": identity, "members": members, "model_config": config, "ensemble": ensemble}

    def save(self, data: None) -> None:
        raise DatasetError("RegistryModelDataset is read-only: training registers models (registered_model)")

    def _exists(self) -> bool:
        return bool(self._uri)

    def how_to_provide(self) -> str:
        """What to type when :meth:`exists` is false (the project's missing-inputs check says it)."""
        return self._missing

    def _describe(self) -> dict[str, Any]:
        return {"uri": self._uri}


def _resolve(client: MlflowClient, reference: ModelReference) -> ModelVersion:
    """The version that ``reference`` names.

    Raises:
        ModelReferenceError: naming the URI and what exists instead.
    """
    try:
        registered = client.get_registered_model(reference.name)
    except MlflowException as err:
        if err.error_code != "RESOURCE_DOES_NOT_EXIST":  # the server is down, a permission: say that
            raise ModelReferenceError(
                f"{reference.uri}: the registry at {mlflow.get_tracking_uri()} answered: {err}"
            ) from err
        names = sorted(model.name for model in client.search_registered_models())
        raise ModelReferenceError(
            f"{reference.uri}: no registered model {reference.name!r} in {mlflow.get_tracking_uri()}; "
            f"registered models: {', '.join(names) or 'none'}"
        ) from err
    versions = sorted(int(v.version) for v in client.search_model_versions(f"name = '{reference.name}'"))
    aliases = {alias: str(number) for alias, number in sorted((registered.aliases or {}).items())}
    number = aliases.get(reference.alias) if reference.alias else reference.version
    if number is None or int(number) not in versions:
        what = f"no alias {reference.alias!r}" if reference.alias else f"no version {reference.version}"
        alias_list = ", ".join(f"{alias} -> version {n}" for alias, n in aliases.items()) or "none"
        raise ModelReferenceError(
            f"{reference.uri}: model {reference.name!r} has {what}; its aliases: {alias_list}; "
            f"its versions: {', '.join(map(str, versions)) or 'none'}"
        )
    return client.get_model_version(reference.name, number)


@dataclass(frozen=True)
class VersionFiles:
    """The downloaded artifacts of a registered version.

    Attributes:
        weights: the state dicts, in member order (one for a training run's version).
        model_config: the network's configuration (JSON).
        ensemble: an ensemble version's record of its members (JSON), else ``None``.
    """

    weights: list[Path]
    model_config: Path
    ensemble: Path | None


def download_version(model_uri: str, folder: Path, weights: bool = True) -> VersionFiles:
    """Downloads the weights, ``model_config`` and (ensembles) ``ensemble`` artifacts of a pyfunc
    version of this project, by the paths its MLmodel file gives them; nothing is loaded
    (``weights=False``: the weights are not downloaded either, ``weights`` is then empty).

    Raises:
        ModelReferenceError: a version without weights or model_config artifacts.
    """
    mlmodel = mlflow.artifacts.download_artifacts(artifact_uri=f"{model_uri}/MLmodel", dst_path=str(folder))
    artifacts = Model.load(mlmodel).flavors.get("python_function", {}).get("artifacts", {})
    names = weights_artifacts(artifacts)
    missing = [n for n in ("weights", "model_config") if not (names if n == "weights" else n in artifacts)]
    if missing:
        raise ModelReferenceError(f"{model_uri}: not a model of this project (no {', '.join(missing)} artifact)")

    def fetch(name: str) -> Path:
        target = folder / name
        target.mkdir(parents=True)
        local = mlflow.artifacts.download_artifacts(
            artifact_uri=f"{model_uri}/{artifacts[name]['path']}", dst_path=str(target)
        )
        return Path(local)

    ensemble = fetch(ENSEMBLE_RECORD) if ENSEMBLE_RECORD in artifacts else None
    return VersionFiles([fetch(name) for name in names] if weights else [], fetch("model_config"), ensemble)


def read_weights(path: Path, where: str) -> dict[str, torch.Tensor]:
    """A state dict read with ``weights_only=True``.

    Raises:
        UnsafeWeightsError: a pickle that is not plain tensors (refused without being run).
        ModelReferenceError: a truncated file or not a torch file.
    """
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as err:
        raise UnsafeWeightsError(
            f"{where}: its weights artifact {path.parent.name} is not plain weights and was refused without being "
            f"run ({err})"
        ) from err
    except (RuntimeError, EOFError, OSError) as err:  # truncated or not a torch file
        raise ModelReferenceError(
            f"{where}: its weights artifact {path.parent.name} is not a readable torch file "
            f"({type(err).__name__}: {err})"
        ) from err


def _json(path: Path, where: str, name: str) -> dict:
    try:
        return json.loads(path.read_text())
    except ValueError as err:
        raise ModelReferenceError(f"{where}: its {name} artifact is not JSON ({err})") from err
