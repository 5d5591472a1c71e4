"""Training through real Kedro sessions with MLflow on the scratch project's SQLite store."""

from __future__ import annotations

import json
import logging
import math

import mlflow
import numpy as np
import pytest
import torch
from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project
from mlflow import MlflowClient

from minivess_kedro.pipelines.training.nodes import loop_settings
from minivess_kedro.pipelines.training.params import TrainingParams

PIPELINES = ["data_ingestion", "splitting", "training"]
# One loss per family: MONAI compound, skeleton-based, distance-transform-based, simple points, persistence.
FAMILIES = ["dice_ce", "vessel_compound", "cbdice", "warp", "topo"]


def _run(project, runtime_params: dict, pipelines=PIPELINES) -> None:
    bootstrap_project(project)
    with KedroSession.create(project_path=project, env="test", runtime_params=runtime_params) as session:
        session.run(pipeline_names=pipelines)


def _client(project) -> MlflowClient:
    return MlflowClient(tracking_uri=f"sqlite:///{project / 'mlflow.db'}")


def _runs(project, name: str):
    client = _client(project)
    experiment = client.get_experiment_by_name("minivess-test")
    return client.search_runs([experiment.experiment_id], filter_string=f"attributes.run_name = '{name}'")


@pytest.mark.slow
@pytest.mark.parametrize("loss", FAMILIES)
def test_one_training_run_per_loss_family(project_copy, loss) -> None:
    """kedro run --env test --params loss=<loss>,fold_idx=1"""
    _run(project_copy, {"loss": loss, "fold_idx": 1})

    (run,) = _runs(project_copy, f"{loss}-fold1")
    client = _client(project_copy)
    assert run.info.status == "FINISHED"
    assert run.data.tags["loss"] == loss and run.data.tags["fold_idx"] == "1"
    assert run.data.tags["compute_profile"] == "test" and run.data.tags["experiment_phase"] == "test"
    assert len(run.data.tags["dataset_fingerprint"]) == 64 and run.data.tags["git_commit"]
    assert run.data.params["loss"] == loss and run.data.params["training.compute.batch_size"] == "2"
    for key in ("train_loss", "train_dice", "val_loss", "val_dsc", "lr", "val_cldice"):
        history = client.get_metric_history(run.info.run_id, key)
        assert [m.step for m in history] == [0, 1][-len(history) :] and history, key
        assert all(math.isfinite(m.value) for m in history), key
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id)}
    assert {
        "split.json",
        "model_config.json",
        "requirements.txt",
        "git_commit.txt",
        "config",
        "checkpoints",
    } <= artifacts  # the pyfunc model is an MLflow 3 "logged model", checked through the registry below
    assert client.list_artifacts(run.info.run_id, "checkpoints")[0].path == "checkpoints/best_model.pt"

    versions = client.search_model_versions("name = 'minivess-dynunet-test'")
    assert any(v.run_id == run.info.run_id and v.tags["loss"] == loss and v.tags["fold_idx"] == "1" for v in versions)

    # selection_start: late_term, the test env's warp and topo on from epoch 1 of 2: every loss selects epoch 1
    models = project_copy / "data" / "test-env" / "06_models" / "synthetic" / loss / "fold_1"
    summary = json.loads((models / "training_summary.json").read_text())
    lineage = json.loads((models / "model_lineage.json").read_text())
    assert lineage["training"]["selection_start_epoch"] == summary["selection_start_epoch"] == 1
    assert summary["best_epoch"] == 1


@pytest.mark.slow
def test_registered_model_loads_without_pickle_and_segments(project_copy) -> None:
    _run(project_copy, {"loss": "dice_ce", "fold_idx": 0})
    mlflow.set_tracking_uri(f"sqlite:///{project_copy / 'mlflow.db'}")
    model = mlflow.pyfunc.load_model("models:/minivess-dynunet-test/1")
    volume = np.random.default_rng(0).integers(100, 1000, size=(20, 20, 6)).astype(np.uint16)

    mask = model.predict(volume)

    assert mask.shape == (20, 20, 6) and set(np.unique(mask)) <= {0, 1}
    checkpoint = project_copy / "data" / "test-env" / "06_models" / "synthetic" / "dice_ce" / "fold_0" / "best_model.pt"
    state = torch.load(checkpoint, weights_only=True)  # plain tensors only
    assert all(isinstance(v, torch.Tensor) for v in state.values())


@pytest.mark.slow
def test_rerun_of_a_finished_run_does_not_retrain(project_copy) -> None:
    _run(project_copy, {"loss": "dice_ce", "fold_idx": 0})
    checkpoint = (
        project_copy
        / "data"
        / "test-env"
        / "06_models"
        / "synthetic"
        / "dice_ce"
        / "fold_0"
        / "checkpoints"
        / "last.pt"
    )
    stamp = checkpoint.stat().st_mtime_ns

    _run(project_copy, {"loss": "dice_ce", "fold_idx": 0}, pipelines=["training"])

    assert checkpoint.stat().st_mtime_ns == stamp
    runs = _runs(project_copy, "dice_ce-fold0")
    assert len(runs) == 2 and {r.info.status for r in runs} == {"FINISHED"}
    steps = [m.step for m in _client(project_copy).get_metric_history(runs[0].info.run_id, "train_loss")]
    assert steps == [0, 1]  # the second run shows the whole curve too
    versions = _client(project_copy).search_model_versions("name = 'minivess-dynunet-test'")
    assert [str(v.version) for v in versions] == ["1"]  # the same weights are not registered twice
    registered = json.loads((checkpoint.parents[1] / "registered_model.json").read_text())
    assert registered["version"] == "1" and registered["run_id"] == runs[0].info.run_id


@pytest.mark.slow
def test_failing_node_leaves_the_run_failed(project_copy) -> None:
    _run(project_copy, {"loss": "dice_ce", "fold_idx": 0}, pipelines=["data_ingestion", "splitting"])
    for image in (project_copy / "data" / "test-env" / "01_raw" / "synthetic" / "imagesTr").glob("*.nii.gz"):
        image.write_bytes(image.read_bytes()[:100])  # every raw image truncated after ingestion
    with pytest.raises(Exception, match="not a readable NIfTI file"):
        _run(project_copy, {"loss": "dice_ce", "fold_idx": 0}, pipelines=["training"])
    runs = sorted(_runs(project_copy, "dice_ce-fold0"), key=lambda r: r.info.start_time)
    assert [r.info.status for r in runs] == ["FAILED"]  # the failed training (data preparation opens no run)


@pytest.mark.slow
def test_loss_kwarg_typo_fails_before_any_work(project_copy) -> None:
    with pytest.raises(ValueError, match=r"training.loss_kwargs.dice_ce: unknown kwargs \['bogus'\]"):
        _run(project_copy, {"loss": "dice_ce", "fold_idx": 0, "training": {"loss_kwargs": {"dice_ce": {"bogus": 1}}}})
    assert not (project_copy / "data").exists()


@pytest.mark.slow
def test_unknown_loss_fails_before_anything_runs(project_copy) -> None:
    with pytest.raises(ValueError, match="loss='cbdcie' is not a loss of the study; valid: dice_ce, cldice"):
        _run(project_copy, {"loss": "cbdcie"})
    assert not (project_copy / "data").exists()
    assert not (project_copy / "mlflow.db").exists() or not _runs(project_copy, "cbdcie-fold0")


def test_profile_values_reach_the_loop(project_root) -> None:
    from tests.test_config import _loader  # noqa: PLC0415

    raw = _loader("gpu_low", {"loss": "cbdice", "fold_idx": 1})["parameters"]["training"]
    loader, window, fit = loop_settings(TrainingParams.model_validate(raw))

    assert (loader.batch_size, loader.patch_size, loader.num_workers) == (2, (96, 96, 24), 4)
    assert (fit.amp, fit.grad_accumulation) == (True, 2)
    assert window.roi_size == (96, 96, 24)
    assert raw["checkpoint_dir"] == "data/06_models/ebrains/cbdice/fold_1/checkpoints"


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"compute": {"patch_size": [64, 64, 12]}}, r"training.compute.patch_size \[64, 64, 12\].*D=12"),
        ({"max_epoch": 3}, "max_epoch"),
        ({"loss_kwargs": {"cbdcie": {}}}, r"unknown losses \['cbdcie'\]"),
    ],
)
def test_bad_training_parameters_are_refused(override, message) -> None:
    from tests.test_config import _loader  # noqa: PLC0415

    raw = _loader("cpu")["parameters"]["training"]
    for key, value in override.items():
        raw[key] = {**raw[key], **value} if isinstance(value, dict) and isinstance(raw.get(key), dict) else value
    with pytest.raises(ValueError, match=message):
        TrainingParams.model_validate(raw)


def test_gpu_profile_without_a_gpu_says_so(project_copy, caplog) -> None:
    with caplog.at_level(logging.WARNING, logger="minivess_kedro.pipelines.training.nodes"):
        _run(project_copy, {"training": {"compute": {"gpus": 1}}})
    assert any("made for 1 GPU(s) but training runs on the CPU" in r.getMessage() for r in caplog.records)
