"""``kedro sweep`` on a tiny grid in the test env: cells run, finished cells are never repeated."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest
from mlflow import MlflowClient


def _sweep(project, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "KEDRO_DISABLE_TELEMETRY": "1"}
    command = [sys.executable, "-m", "kedro", "sweep", "--env", "test", "--no-report", *args]
    return subprocess.run(command, cwd=project, env=env, capture_output=True, text=True, timeout=900, check=False)


@pytest.mark.slow
def test_grid_resumes_without_repeating_finished_cells(project_copy) -> None:
    first = _sweep(project_copy, "--losses", "dice_ce", "--folds", "0,1")
    assert first.returncode == 0, first.stderr[-2000:]

    # the grid grew by a loss and a seed
    second = _sweep(project_copy, "--losses", "dice_ce,cbdice", "--folds", "0,1", "--seeds", "0,1")
    assert second.returncode == 0, second.stderr[-2000:]

    pattern = r"^(\S+-fold\d+(?:-seed\d+)?)\s+(finished|skipped|failed)\b"
    lines = dict(re.findall(pattern, second.stdout, flags=re.MULTILINE))
    assert lines == {
        "dice_ce-fold0": "skipped",
        "dice_ce-fold0-seed1": "finished",
        "dice_ce-fold1": "skipped",
        "dice_ce-fold1-seed1": "finished",
        "cbdice-fold0": "finished",
        "cbdice-fold0-seed1": "finished",
        "cbdice-fold1": "finished",
        "cbdice-fold1-seed1": "finished",
    }
    client = MlflowClient(tracking_uri=f"sqlite:///{project_copy / 'mlflow.db'}")
    experiment = client.get_experiment_by_name("minivess-test")
    runs = client.search_runs([experiment.experiment_id], "tags.evaluated = 'true'")
    cells = sorted((r.data.tags["loss"], r.data.tags["fold_idx"], r.data.tags["seed"]) for r in runs)
    expected = [(loss, fold, seed) for loss in ("cbdice", "dice_ce") for fold in "01" for seed in "01"]
    assert cells == expected  # each cell once
    assert {r.info.run_name for r in runs} >= {"dice_ce-fold0", "cbdice-fold1-seed1"}


def test_unknown_loss_stops_before_any_run(project_copy) -> None:
    result = _sweep(project_copy, "--losses", "cbdcie", "--folds", "0")
    assert result.returncode != 0 and "unknown losses ['cbdcie']" in result.stderr
    assert not (project_copy / "data").exists()
