"""MLflow bookkeeping of training runs: runs left RUNNING by a kill -9 are closed on resume."""

from __future__ import annotations

import mlflow
import pytest
from mlflow import MlflowClient

from minivess_kedro.pipelines.training.tracking import start_tracking


@pytest.fixture
def tracking(tmp_path):
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    previous = mlflow.get_tracking_uri()
    mlflow.set_tracking_uri(uri)
    experiment = mlflow.set_experiment("minivess-test")
    yield MlflowClient(uri), experiment.experiment_id
    mlflow.set_tracking_uri(previous)


def test_runs_left_running_by_a_killed_process_are_marked_failed(tracking) -> None:
    client, experiment_id = tracking
    tags = {"loss": "cbdice", "fold_idx": "1", "checkpoint_dir": "data/06_models/x/cbdice/fold_1/checkpoints"}
    killed = client.create_run(experiment_id, tags=tags, run_name="cbdice-fold1")  # never ended
    other_cell = client.create_run(experiment_id, tags={**tags, "checkpoint_dir": "elsewhere"}, run_name="other")

    with mlflow.start_run(run_name="cbdice-fold1") as resumed:
        start_tracking(tags)
        assert client.get_run(resumed.info.run_id).data.tags["loss"] == "cbdice"

    killed_now = client.get_run(killed.info.run_id)
    assert killed_now.info.status == "FAILED"
    assert killed_now.data.tags["ended_by"] == f"interrupted; resumed in run {resumed.info.run_id}"
    assert client.get_run(other_cell.info.run_id).info.status == "RUNNING"  # another cell is left alone
    assert client.get_run(resumed.info.run_id).info.status == "FINISHED"


def test_without_an_active_run_nothing_is_touched(tracking) -> None:
    client, experiment_id = tracking
    left = client.create_run(experiment_id, tags={"checkpoint_dir": "d"})
    start_tracking({"checkpoint_dir": "d"})
    assert client.get_run(left.info.run_id).info.status == "RUNNING"
