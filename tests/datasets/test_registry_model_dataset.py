"""The inference pipeline's model, read from an MLflow registry by its URI: an alias or a version
resolves to plain weights; a URI that names no version is one error listing what exists; a
weights artifact replaced in the artifact store by a code-running pickle is refused unrun. The
aliases the report sets are read back by the next report with the data their model was trained on."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import mlflow
import pytest
import torch
from kedro.io.core import DatasetError
from mlflow import MlflowClient

from minivess_kedro.datasets.mlflow_study_runs_dataset import StudyRuns
from minivess_kedro.datasets.registered_model_dataset import RegisteredModelDataset
from minivess_kedro.datasets.registry_aliases_dataset import RegistryAliasesDataset
from minivess_kedro.datasets.registry_model_dataset import RegistryModelDataset
from minivess_kedro.inference.registered_model import ModelReferenceError, UnsafeWeightsError
from minivess_kedro.models import DynUNetConfig, build_dynunet
from tests.datasets.test_dynunet_pyfunc import CONFIG, _WritesAFile


def _register(store: Path, name: str, seed: int) -> str:
    torch.manual_seed(seed)
    weights = build_dynunet(DynUNetConfig.from_dict(CONFIG)).state_dict()
    with mlflow.start_run():
        RegisteredModelDataset(filepath=str(store / f"{name}-{seed}.json")).save(
            {"name": name, "state_dict": weights, "model_config": CONFIG}
        )
    return json.loads((store / f"{name}-{seed}.json").read_text())["version"]


@pytest.fixture(scope="module")
def registry(tmp_path_factory) -> str:
    """A store with ``vessels`` versions 1 and 2, aliases best-dsc -> 2 and reference -> 1."""
    store = tmp_path_factory.mktemp("registry")
    uri = f"sqlite:///{store / 'mlflow.db'}"
    mlflow.set_tracking_uri(uri)
    mlflow.set_experiment(experiment_id=mlflow.create_experiment("registry", artifact_location=str(store / "mlruns")))
    for seed in (0, 1):
        _register(store, "vessels", seed)
    client = MlflowClient()
    client.set_registered_model_alias("vessels", "best-dsc", "2")
    client.set_registered_model_alias("vessels", "reference", "1")
    return uri


@pytest.fixture
def store(registry) -> str:
    mlflow.set_tracking_uri(registry)  # what kedro-mlflow does when a session starts
    return registry


@pytest.mark.parametrize(("uri", "version"), [("models:/vessels@best-dsc", "2"), ("models:/vessels/1", "1")])
def test_an_alias_or_a_version_loads_plain_weights_and_the_config(store, uri, version) -> None:
    loaded = RegistryModelDataset(uri=uri).load()
    expected = MlflowClient().get_model_version("vessels", version)
    assert (loaded["model"].name, loaded["model"].version, loaded["model"].uri) == ("vessels", version, uri)
    assert loaded["model"].run_id == expected.run_id
    assert loaded["model_config"] == json.loads(json.dumps(CONFIG))
    network = build_dynunet(DynUNetConfig.from_dict(loaded["model_config"]))
    assert len(loaded["members"]) == 1 and loaded["ensemble"] is None  # a training run's version: one network
    network.load_state_dict(loaded["members"][0])  # the weights fit the network the config describes
    other = RegistryModelDataset(uri="models:/vessels/2" if version == "1" else "models:/vessels/1").load()
    mine, theirs = loaded["members"][0], other["members"][0]
    assert any(not torch.equal(mine[k], theirs[k]) for k in mine)


@pytest.mark.parametrize(
    ("uri", "message"),
    [
        (
            "models:/vessels@best-cldice",
            r"models:/vessels@best-cldice: model 'vessels' has no alias 'best-cldice'; its aliases: "
            r"best-dsc -> version 2, reference -> version 1; its versions: 1, 2",
        ),
        ("models:/vessels/7", r"models:/vessels/7: model 'vessels' has no version 7; .* its versions: 1, 2"),
        (
            "models:/vesels@best-dsc",
            r"models:/vesels@best-dsc: no registered model 'vesels' in sqlite:.*; registered models: vessels",
        ),
        ("runs:/abc/model", r"'runs:/abc/model' is not a registered-model URI: use models:/<name>@<alias>"),
        ("", r"inference.model is not set: .*kedro run --pipelines inference --params inference.input="),
    ],
)
def test_a_uri_that_names_no_version_is_one_error_naming_it_and_what_exists(store, uri, message) -> None:
    with pytest.raises(DatasetError, match=message) as err:  # Kedro wraps what a load raises
        RegistryModelDataset(uri=uri).load()
    assert isinstance(err.value.__cause__, ModelReferenceError)  # an expected error: its message, no traceback


def test_a_tampered_weights_artifact_is_refused_before_its_code_runs(store, tmp_path) -> None:
    version = _register(tmp_path, "tampered", 0)
    model_dir = Path(MlflowClient().get_model_version_download_uri("tampered", version))
    (artifact,) = model_dir.glob("artifacts/best_model.pt")  # the pyfunc's state_dict artifact, in the store
    marker = tmp_path / "code-ran"
    artifact.write_bytes(pickle.dumps({"output_block.conv.conv.weight": _WritesAFile(marker)}))

    with pytest.raises(
        DatasetError,
        match=r"models:/tampered/1 \(version 1, run \w+\): its weights artifact .*Weights only load failed",
    ) as err:
        RegistryModelDataset(uri=f"models:/tampered/{version}").load()
    assert isinstance(err.value.__cause__, UnsafeWeightsError)
    assert not marker.exists()


def test_the_reports_aliases_are_set_moved_removed_and_read_back_with_their_data(store, tmp_path) -> None:
    """What promote_models saves ({name: {alias: version}}, "" removes) is what the next report reads."""
    first, second = (_register(tmp_path, "promoted", seed) for seed in (0, 1))
    client = MlflowClient()
    client.set_model_version_tag("promoted", first, "dataset_fingerprint", "abc123")
    aliases = RegistryAliasesDataset()
    runs = StudyRuns({})

    aliases.save({"promoted": {"best-dsc": first, "reference": first}})
    assert runs.aliases(["promoted", "never-registered"]) == {
        "promoted": {
            "best-dsc": {"version": first, "dataset_fingerprint": "abc123", "loss": ""},
            "reference": {"version": first, "dataset_fingerprint": "abc123", "loss": ""},
        },
        "never-registered": {},
    }
    aliases.save({"promoted": {"best-dsc": second, "reference": ""}})  # moved, removed
    client.set_model_version_tag("promoted", second, "loss", "cbdice")
    assert runs.aliases(["promoted"]) == {
        "promoted": {"best-dsc": {"version": second, "dataset_fingerprint": "", "loss": "cbdice"}}
    }


def test_a_truncated_weights_artifact_is_an_error_naming_the_uri(store, tmp_path) -> None:
    version = _register(tmp_path, "truncated", 0)
    model_dir = Path(MlflowClient().get_model_version_download_uri("truncated", version))
    (artifact,) = model_dir.glob("artifacts/best_model.pt")
    artifact.write_bytes(artifact.read_bytes()[:200])  # an interrupted copy into the artifact store

    with pytest.raises(DatasetError, match=r"models:/truncated/1 \(version 1, run \w+\): .*not a readable torch file"):
        RegistryModelDataset(uri=f"models:/truncated/{version}").load()
