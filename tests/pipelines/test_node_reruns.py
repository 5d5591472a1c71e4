"""Per-node reruns on a finished run's files: ``kedro run --nodes / --from-nodes / --to-nodes`` with
the run's ``--params loss=...,fold_idx=...`` (docs/reruns.md)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project
from mlflow import MlflowClient

from minivess_kedro.pipelines.evaluation.pipeline import create_pipeline as evaluation_pipeline
from tests.conftest import scratch_project

RUN = {"loss": "dice_ce", "fold_idx": 0}
EVALUATION_NODES = [node.name for node in evaluation_pipeline().nodes]


def _session_run(project: Path, runtime_params: dict, **filters) -> None:
    bootstrap_project(project)
    with KedroSession.create(project_path=project, env="test", runtime_params=runtime_params) as session:
        session.run(**filters)


def _runs(project: Path, name: str) -> list:
    client = MlflowClient(tracking_uri=f"sqlite:///{project / 'mlflow.db'}")
    experiment = client.get_experiment_by_name("minivess-test")
    runs = client.search_runs([experiment.experiment_id], filter_string=f"attributes.run_name = '{name}'")
    return sorted(runs, key=lambda run: run.info.start_time)


def _outputs(project: Path) -> Path:
    return project / "data" / "test-env" / "07_model_output" / "synthetic" / "dice_ce" / "fold_0"


def _metrics(project: Path) -> pd.DataFrame:
    return pd.read_csv(_outputs(project) / "volume_metrics.csv").drop(columns="seconds")


def _stamps(folder: Path) -> dict[str, int]:
    return {
        path.relative_to(folder).as_posix(): path.stat().st_mtime_ns for path in folder.rglob("*") if path.is_file()
    }


@pytest.fixture(scope="module")
def finished(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A scratch project (as tests/conftest.py's ``project_copy``) after the whole study for one
    loss and fold: ``kedro run --env test --params loss=dice_ce,fold_idx=0``. Module-scoped: every
    test here reruns nodes on the same finished run."""
    project = scratch_project(tmp_path_factory.mktemp("reruns") / "project")
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.chdir(project)
        _session_run(project, RUN)
        yield project


@pytest.mark.slow
def test_cli_rerun_of_the_evaluation_nodes_gives_the_same_metrics(finished) -> None:
    """kedro run --env test --nodes predict_volumes,...,record_evaluation --params loss=dice_ce,fold_idx=0"""
    first = _metrics(finished)
    models = finished / "data" / "test-env" / "06_models" / "synthetic" / "dice_ce" / "fold_0"
    checkpoints, predictions = _stamps(models), _stamps(_outputs(finished) / "predictions")
    trained, *_ = before = _runs(finished, "dice_ce-fold0")  # the first run trained the model
    client = MlflowClient(tracking_uri=f"sqlite:///{finished / 'mlflow.db'}")
    versions = len(client.search_model_versions("name = 'minivess-dynunet-test'"))

    command = [sys.executable, "-m", "kedro", "run", "--env", "test", "--nodes", ",".join(EVALUATION_NODES)]
    command += ["--params", "loss=dice_ce,fold_idx=0"]
    environment = {**os.environ, "KEDRO_DISABLE_TELEMETRY": "1"}
    done = subprocess.run(command, check=False, cwd=finished, env=environment, capture_output=True, text=True)

    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    pd.testing.assert_frame_equal(_metrics(finished), first)
    assert _stamps(models) == checkpoints  # read, not retrained
    again = _stamps(_outputs(finished) / "predictions")
    assert again.keys() == predictions.keys() and all(again[k] != predictions[k] for k in again)  # predicted anew
    # MLflow: one more run for the cell, an evaluation only; no training, no new model version.
    known = {run.info.run_id for run in before}
    (rerun,) = [run for run in _runs(finished, "dice_ce-fold0") if run.info.run_id not in known]
    assert rerun.info.status == "FINISHED"
    assert rerun.data.tags["evaluated"] == "true" and "record_evaluation" in rerun.data.tags["node_names"]
    assert rerun.data.metrics["test_dsc"] == pytest.approx(trained.data.metrics["test_dsc"])
    assert "best_val_dsc" not in rerun.data.metrics and "train_loss" not in rerun.data.metrics
    artifacts = {artifact.path for artifact in client.list_artifacts(rerun.info.run_id)}
    assert "checkpoints" not in artifacts and {"evaluation", "training_history.csv"} <= artifacts
    assert len(client.search_model_versions("name = 'minivess-dynunet-test'")) == versions


@pytest.mark.slow
def test_from_nodes_reuses_the_saved_predictions_and_rebuilds_the_report(finished) -> None:
    """kedro run --env test --from-nodes score_predictions --params loss=dice_ce,fold_idx=0"""
    first = _metrics(finished)
    predictions = _stamps(_outputs(finished) / "predictions")
    report = finished / "data" / "test-env" / "08_reporting" / "synthetic" / "report.md"
    report_stamp = report.stat().st_mtime_ns

    _session_run(finished, RUN, from_nodes=["score_predictions"])

    pd.testing.assert_frame_equal(_metrics(finished), first)
    assert _stamps(_outputs(finished) / "predictions") == predictions  # scored from the files, not predicted again
    assert report.stat().st_mtime_ns != report_stamp and "dice_ce" in report.read_text()


@pytest.mark.slow
def test_to_nodes_stops_after_the_split_of_the_fold(finished) -> None:
    """kedro run --env test --to-nodes split_for_fold --params loss=dice_ce,fold_idx=2"""
    primary = finished / "data" / "test-env" / "03_primary" / "synthetic"
    splits = (primary / "splits.json").read_text()

    _session_run(finished, {"loss": "dice_ce", "fold_idx": 2}, to_nodes=["split_for_fold"])

    fold = json.loads((primary / "splits" / "fold_2.json").read_text())
    assert fold["fold_idx"] == 2 and fold["val"] == json.loads(splits)["folds"][2]["val"]
    assert (primary / "splits.json").read_text() == splits  # same manifest, same seed: the same file
    assert not (finished / "data" / "test-env" / "06_models" / "synthetic" / "dice_ce" / "fold_2").exists()
    assert not _runs(finished, "dice_ce-fold2")  # no cell's run: the data preparation is named for what it is
    (run,) = _runs(finished, "data-preparation")
    assert run.info.status == "FINISHED" and "evaluated" not in run.data.tags and "loss" not in run.data.tags


@pytest.mark.slow
def test_node_rerun_without_its_inputs_names_the_dataset_and_the_command(finished) -> None:
    """kedro run --env test --nodes score_predictions --params loss=cbdice,fold_idx=0,evaluation.bootstrap..."""
    params = {"loss": "cbdice", "fold_idx": 0, "evaluation": {"bootstrap": {"n_resamples": 100}}}

    with pytest.raises(FileNotFoundError) as caught:
        _session_run(finished, params, node_names=["score_predictions"])

    message = str(caught.value)
    # labels and split exist; no model (so no lineage) and no predictions (nor their lineage)
    assert message.startswith("3 input(s) of this run are missing")
    assert message.index("model_lineage (") < message.index("predictions (")  # in the order to make them
    assert "predictions (" in message and "cbdice/fold_0/predictions)" in message
    command = "kedro run --env test --pipelines evaluation --params "
    command += "loss=cbdice,fold_idx=0,evaluation.bootstrap.n_resamples=100"  # nested --params said back dotted
    assert f"`{command}` writes it (node predict_volumes)" in message
    assert [run.info.status for run in _runs(finished, "cbdice-fold0")] == ["FAILED"]
