"""``RegistryModelDataset``: a version of a registered model, by its ``models:/`` URI, as plain
weights and configuration (read-only)."""

from __future__ import annotations

import json
import pickle
import tempfile
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
    EXAMPLE_URI,
    ModelIdentity,
    ModelReference,
    ModelReferenceError,
    UnsafeWeightsError,
    parse_model_uri,
)

MISSING = (
    "inference.model is not set: name the registered model version on the command line, e.g. "
    f"`kedro run --pipelines inference --params inference.input=/data/new,inference.model={EXAMPLE_URI}` "
    "(or models:/<name>/<version>)"
)


class RegistryModelDataset(AbstractDataset[None, dict[str, Any]]):
    """Loads the version that ``uri`` names from the registry kedro-mlflow configured.

    The alias or version is resolved with ``MlflowClient`` to the model's name, version and the
    run that logged it; of the version's pyfunc (``registered_model_dataset.py``) only the
    ``state_dict`` and ``model_config`` artifacts are downloaded, and the weights are read with
    ``torch.load(..., weights_only=True)``: nothing is unpickled and no logged code runs.

    Example catalog entry::

        inference_model:
          type: minivess_kedro.datasets.registry_model_dataset.RegistryModelDataset
          uri: ${runtime_params:inference.model, ""}
    """

    def __init__(self, *, uri: str = "", metadata: dict[str, Any] | None = None) -> None:
        self._uri, self.metadata = (uri or "").strip(), metadata

    def load(self) -> dict[str, Any]:
        """``{"model": ModelIdentity, "state_dict": {name: tensor}, "model_config": dict}``.

        Raises:
            ModelReferenceError: no URI, a malformed one, or one naming no version (the message
                lists the registered models, or the model's aliases and versions).
            UnsafeWeightsError: a weights artifact that is not plain tensors.
        """
        if not self._uri:
            raise ModelReferenceError(MISSING)
        reference = parse_model_uri(self._uri)
        client = MlflowClient()
        version = _resolve(client, reference)
        identity = ModelIdentity(reference.name, str(version.version), version.run_id or "", reference.uri)
        with tempfile.TemporaryDirectory(prefix="registry-model-") as folder:
            state_path, config_path = _download(f"models:/{reference.name}/{version.version}", Path(folder))
            try:
                state = torch.load(state_path, map_location="cpu", weights_only=True)
            except pickle.UnpicklingError as err:
                raise UnsafeWeightsError(
                    f"{reference.uri} (version {identity.version}, run {identity.run_id}): its state_dict artifact "
                    f"is not plain weights and was refused without being run ({err})"
                ) from err
            except (RuntimeError, EOFError, OSError) as err:  # truncated or not a torch file
                raise ModelReferenceError(
                    f"{reference.uri} (version {identity.version}, run {identity.run_id}): its state_dict artifact "
                    f"is not a readable torch file ({type(err).__name__}: {err})"
                ) from err
            try:
                config = json.loads(config_path.read_text())
            except ValueError as err:
                raise ModelReferenceError(
                    f"{reference.uri} (version {identity.version}): its model_config artifact is not JSON ({err})"
                ) from err
        return {"model": identity, "state_dict": state, "model_config": config}

    def save(self, data: None) -> None:
        raise DatasetError("RegistryModelDataset is read-only: training registers models (registered_model)")

    def _exists(self) -> bool:
        return bool(self._uri)

    def how_to_provide(self) -> str:
        """What to type when :meth:`exists` is false (the project's missing-inputs check says it)."""
        return MISSING

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


def _download(model_uri: str, folder: Path) -> tuple[Path, Path]:
    """Downloads the ``state_dict`` and ``model_config`` artifacts of a pyfunc version (by the
    paths its MLmodel file gives them)."""
    mlmodel = mlflow.artifacts.download_artifacts(artifact_uri=f"{model_uri}/MLmodel", dst_path=str(folder))
    artifacts = Model.load(mlmodel).flavors.get("python_function", {}).get("artifacts", {})
    missing = sorted({"state_dict", "model_config"} - set(artifacts))
    if missing:
        raise ModelReferenceError(f"{model_uri}: not a model of this project (no {', '.join(missing)} artifact)")
    paths = []
    for name in ("state_dict", "model_config"):
        target = folder / name
        target.mkdir()
        local = mlflow.artifacts.download_artifacts(
            artifact_uri=f"{model_uri}/{artifacts[name]['path']}", dst_path=str(target)
        )
        paths.append(Path(local))
    return paths[0], paths[1]
