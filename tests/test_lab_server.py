"""A lab's tracking server: `mlflow server` on a real PostgreSQL backend store with proxied
artifacts, named by MLFLOW_TRACKING_URI; the project's SQLite file is never written."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import urllib.request

import pytest
from mlflow import MlflowClient

from tests.local_ports import free_port


@pytest.fixture
def lab_server(tmp_path):
    """``mlflow server --backend-store-uri postgresql+psycopg2://... --artifacts-destination ...``
    on 127.0.0.1, as docs/lab_server.md starts one."""
    import pgserver  # noqa: PLC0415 - a test dependency ([dev])

    postgres = pgserver.get_server(tmp_path / "postgres", cleanup_mode="stop")
    postgres.psql("CREATE DATABASE mlflow;")
    backend = postgres.get_uri("mlflow").replace("postgresql://", "postgresql+psycopg2://")
    port = free_port()
    command = [sys.executable, "-m", "mlflow", "server", "--backend-store-uri", backend]
    command += ["--artifacts-destination", str(tmp_path / "artifacts"), "--host", "127.0.0.1", "--port", str(port)]
    command += ["--workers", "1"]
    with (tmp_path / "server.log").open("w") as log:
        server = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    uri = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 120
        while time.time() < deadline:
            try:
                if urllib.request.urlopen(f"{uri}/health", timeout=2).read() == b"OK":
                    break
            except OSError:
                time.sleep(0.5)
        else:
            pytest.fail("mlflow server did not start:\n" + (tmp_path / "server.log").read_text()[-2000:])
        yield uri, tmp_path / "artifacts"
    finally:
        server.terminate()
        server.wait(timeout=30)


def _sweep(project, uri: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "KEDRO_DISABLE_TELEMETRY": "1", "MLFLOW_TRACKING_URI": uri}
    command = [sys.executable, "-m", "kedro", "sweep", "--env", "test", "--no-report", "--losses", "dice_ce,cbdice"]
    command += ["--folds", "0"]
    return subprocess.run(command, cwd=project, env=env, capture_output=True, text=True, timeout=900, check=False)


@pytest.mark.slow
def test_a_sweep_against_the_labs_server_lands_there_and_skips_its_cells_the_second_time(
    project_copy, lab_server
) -> None:
    """MLFLOW_TRACKING_URI=http://127.0.0.1:<port> kedro sweep --env test --losses dice_ce,cbdice --folds 0, twice."""
    uri, artifacts = lab_server
    first = _sweep(project_copy, uri)
    assert first.returncode == 0, first.stdout[-2000:] + first.stderr[-2000:]

    client = MlflowClient(tracking_uri=uri)
    experiment = client.get_experiment_by_name("minivess-test")
    runs = {run.info.run_name: run for run in client.search_runs([experiment.experiment_id])}
    assert sorted(runs) == ["cbdice-fold0", "dice_ce-fold0"]
    for name, run in runs.items():
        assert run.info.status == "FINISHED" and run.data.tags["evaluated"] == "true", name
        assert [m.step for m in client.get_metric_history(run.info.run_id, "train_loss")] == [0, 1], name
        assert "test_dsc" in run.data.metrics, name
        logged = {artifact.path for artifact in client.list_artifacts(run.info.run_id)}  # proxied by the server
        assert {"split.json", "model_lineage.json", "evaluation", "checkpoints"} <= logged, name
    versions = client.search_model_versions("name = 'minivess-dynunet-test'")
    assert sorted(v.tags["loss"] for v in versions) == ["cbdice", "dice_ce"]
    assert any(artifacts.rglob("best_model.pt"))  # the artifacts live on the server's side
    assert not (project_copy / "mlflow.db").exists() and not (project_copy / "mlruns").exists()

    second = _sweep(project_copy, uri)
    assert second.returncode == 0, second.stderr[-2000:]
    statuses = dict(re.findall(r"^(\S+-fold\d+)\s+(finished|skipped|failed)\b", second.stdout, flags=re.MULTILINE))
    assert statuses == {"dice_ce-fold0": "skipped", "cbdice-fold0": "skipped"}
    assert len(client.search_runs([experiment.experiment_id])) == 2
