"""``torchrun --nproc_per_node=2 -m kedro run --pipelines training`` on the CPU (gloo): one MLflow
run, outputs written once by rank 0, replicas identical; other pipelines refused."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project
from kedro.io import DataCatalog, MemoryDataset
from kedro.pipeline import Pipeline
from mlflow import MlflowClient

from minivess_kedro.framework.distributed_run import RANK_ZERO_PLUGINS, DistributedRunGuard, plugins_to_disable
from minivess_kedro.pipelines import evaluation, training

RUN = "dice_ce-fold0"


def _torchrun(project: Path, *kedro_args: str) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2"]
    command += ["-m", "kedro", "run", "--env", "test", *kedro_args]
    env = {k: v for k, v in os.environ.items() if k not in ("RANK", "WORLD_SIZE", "LOCAL_RANK")}
    return subprocess.run(command, cwd=project, env=env, capture_output=True, text=True, timeout=300, check=False)


def test_two_process_training_makes_one_run_and_one_model(project_copy) -> None:
    bootstrap_project(project_copy)
    with KedroSession.create(project_path=project_copy, env="test") as session:
        session.run(pipeline_names=["data_ingestion", "splitting"])

    client = MlflowClient(tracking_uri=f"sqlite:///{project_copy / 'mlflow.db'}")
    experiment = client.get_experiment_by_name("minivess-test")
    before = {run.info.run_id for run in client.search_runs([experiment.experiment_id])}

    done = _torchrun(project_copy, "--pipelines", "training", "--params", "loss=dice_ce,fold_idx=0")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    console = done.stdout + done.stderr
    assert console.count("2 processes train one model") == 1
    assert console.count("epoch 0 (1 of 2): loss") == 1, "rank 1 prints only warnings and errors"

    runs = [run for run in client.search_runs([experiment.experiment_id]) if run.info.run_id not in before]
    assert len(runs) == 1, "two processes, one MLflow run"
    assert runs[0].info.status == "FINISHED" and runs[0].info.run_name == RUN
    assert runs[0].data.tags["loss"] == "dice_ce" and "train_loss" in runs[0].data.metrics
    assert len(client.search_model_versions("name = 'minivess-dynunet-test'")) == 1

    model_dir = project_copy / "data" / "test-env" / "06_models" / "synthetic" / "dice_ce" / "fold_0"
    summary = json.loads((model_dir / "training_summary.json").read_text())
    assert summary["processes"] == 2 and summary["epochs"] == 2
    assert len(summary["final_weights_sha256"]) == 64  # the replicas were checked equal before saving
    assert (model_dir / "best_model.pt").stat().st_size > 0


def test_torchrun_refuses_pipelines_other_than_training(monkeypatch) -> None:
    monkeypatch.setenv("RANK", "0")
    monkeypatch.setenv("WORLD_SIZE", "2")
    pipeline = training.create_pipeline() + evaluation.create_pipeline()
    expected = r"torchrun runs only --pipelines training .* `kedro run --env gpu_low --pipelines"
    with pytest.raises(ValueError, match=expected):
        DistributedRunGuard().before_pipeline_run({"env": "gpu_low"}, pipeline, DataCatalog())


def test_other_ranks_keep_outputs_in_memory(monkeypatch, project_root) -> None:
    monkeypatch.setenv("RANK", "1")
    monkeypatch.setenv("WORLD_SIZE", "2")
    pipeline: Pipeline = training.create_pipeline()
    catalog = DataCatalog()
    DistributedRunGuard().before_pipeline_run({"env": "test"}, pipeline, catalog)
    assert set(catalog.keys()) == pipeline.all_outputs()
    assert all(isinstance(catalog[name], MemoryDataset) for name in pipeline.all_outputs())
    assert plugins_to_disable() == RANK_ZERO_PLUGINS


def test_rank_zero_keeps_every_plugin(monkeypatch) -> None:
    monkeypatch.setenv("RANK", "0")
    assert plugins_to_disable() == ()
    monkeypatch.delenv("RANK")
    assert plugins_to_disable() == ()


def test_disabled_plugin_names_are_the_installed_distributions() -> None:
    # Kedro matches DISABLE_HOOKS_FOR_PLUGINS against each distribution's metadata name.
    from importlib.metadata import entry_points  # noqa: PLC0415

    hook_distributions = {point.dist.metadata["name"] for point in entry_points(group="kedro.hooks")}
    assert set(RANK_ZERO_PLUGINS) <= hook_distributions


def test_other_ranks_write_no_log_file_and_print_only_warnings(monkeypatch, tmp_path) -> None:
    log_file, console = logging.FileHandler(tmp_path / "info.log"), logging.StreamHandler()
    for handler in (log_file, console):
        logging.root.addHandler(handler)
    try:
        monkeypatch.setenv("RANK", "0")
        DistributedRunGuard().after_context_created(context=None)
        assert log_file in logging.root.handlers and console.level == logging.NOTSET
        monkeypatch.setenv("RANK", "1")
        DistributedRunGuard().after_context_created(context=None)
        assert log_file not in logging.root.handlers
        assert console in logging.root.handlers and console.level == logging.WARNING
    finally:
        for handler in (log_file, console):
            logging.root.removeHandler(handler)
            handler.close()
