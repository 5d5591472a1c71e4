"""Ctrl-C during `kedro run` leaves the MLflow run FAILED (tagged), never FINISHED."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from mlflow import MlflowClient

CHECKPOINT = "data/test-env/06_models/synthetic/dice_ce/fold_0/checkpoints/last.pt"


def test_ctrl_c_during_training_ends_the_run_failed(project_copy) -> None:
    params = "loss=dice_ce,fold_idx=0,training.max_epochs=200,training.patience=200"
    command = [sys.executable, "-m", "kedro", "run", "--env", "test", "--params", params]
    env = os.environ | {"KEDRO_DISABLE_TELEMETRY": "1"}
    process = subprocess.Popen(command, cwd=project_copy, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 300
    while not (project_copy / CHECKPOINT).exists():  # training has started: epoch 1 is on disk
        assert process.poll() is None, process.stdout.read().decode()[-3000:]
        assert time.monotonic() < deadline, "training did not start"
        time.sleep(0.2)
    process.send_signal(signal.SIGINT)
    output = process.communicate(timeout=120)[0].decode()
    assert process.returncode != 0

    client = MlflowClient(tracking_uri=f"sqlite:///{project_copy / 'mlflow.db'}")
    experiment = client.get_experiment_by_name("minivess-test")
    (run,) = client.search_runs([experiment.experiment_id], "attributes.run_name = 'dice_ce-fold0'")
    assert run.info.status == "FAILED", output[-3000:]
    assert run.data.tags["ended_by"].startswith("interrupted (Ctrl-C)")
