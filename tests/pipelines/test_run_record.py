"""The run record hook's pieces: stale runs closed on resume, runs that are not a cell named."""

from __future__ import annotations

import mlflow
import pytest
from kedro.pipeline import Node, Pipeline
from mlflow import MlflowClient

from minivess_kedro.framework.run_record import close_stale_runs, model_tags, non_cell_run_name


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

    with mlflow.start_run(run_name="cbdice-fold1", tags=tags) as resumed:
        close_stale_runs(tags["checkpoint_dir"])

    killed_now = client.get_run(killed.info.run_id)
    assert killed_now.info.status == "FAILED"
    assert killed_now.data.tags["ended_by"] == f"interrupted; resumed in run {resumed.info.run_id}"
    assert client.get_run(other_cell.info.run_id).info.status == "RUNNING"  # another cell is left alone
    assert client.get_run(resumed.info.run_id).info.status == "FINISHED"


def _pipeline(*names_and_tags: tuple[str, str]) -> Pipeline:
    return Pipeline([Node(lambda: 1, None, f"out_{name}", name=name, tags=tag) for name, tag in names_and_tags])


@pytest.mark.parametrize(
    ("nodes", "name"),
    [
        ([("collect_study_runs", "reporting"), ("build_study_report", "reporting")], "report"),
        ([("evaluate_baselines", "evaluation"), ("build_study_report", "reporting")], "report"),
        ([("prepare_raw_data", "data_ingestion"), ("split_volumes", "splitting")], "data-preparation"),
        ([("evaluate_baselines", "evaluation")], "evaluate_baselines"),
    ],
)
def test_a_run_that_is_not_a_cell_is_named_after_what_it_does(nodes, name) -> None:
    """kedro run --pipelines reporting, or --nodes ... of no cell: never `dice_ce-fold0`."""
    assert non_cell_run_name(_pipeline(*nodes)) == name


def test_a_re_evaluation_is_tagged_with_the_models_protocol_and_profile() -> None:
    lineage = {"protocol": "holdout", "training": {"compute": {"profile": "gpu_low"}}}
    assert model_tags(lineage) == {"protocol": "holdout", "compute_profile": "gpu_low"}
    assert model_tags({"protocol": "nested"}) == {"protocol": "nested", "compute_profile": "?"}
